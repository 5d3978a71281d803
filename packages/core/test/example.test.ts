import { test } from "node:test";
import assert from "node:assert/strict";
import { createApp } from "../example/main.ts";
import app from "../example/main.ts";
import { placeOrder } from "../example/domain/order.ts";
import { testContext } from "../src/testing.ts";

test("example: the domain reads time and identity from the context", () => {
  const t = testContext({ now: 1_700_000_000_000, seed: 42, tenant_id: "acme" });
  const order = placeOrder(t, "book", 2);
  assert.deepEqual(order, {
    id: "99e1ef7c-72c3-4b8a-9a3b-32c0ab73b0ad",
    tenant_id: "acme",
    item: "book",
    quantity: 2,
    placed_at: 1_700_000_000_000,
  });
  t.clock.advance(5);
  assert.equal(placeOrder(testContext({ now: 5 }), "pen", 1).placed_at, 5);
  assert.throws(() => placeOrder(t, "pen", 0), RangeError);
});

test("example: the fetch entry places and lists orders per tenant", async () => {
  const shop = createApp();
  const post = (tenant: string, item: string): Promise<Response> =>
    shop.fetch(
      new Request("https://shop.example/orders", {
        method: "POST",
        headers: { "x-tenant-id": tenant, "content-type": "application/json" },
        body: JSON.stringify({ item, quantity: 1 }),
      }),
    );
  assert.equal((await post("acme", "book")).status, 204);
  assert.equal((await post("acme", "pen")).status, 204);
  assert.equal((await post("other", "cup")).status, 204);
  const list = await shop.fetch(new Request("https://shop.example/orders", { headers: { "x-tenant-id": "acme" } }));
  const orders = (await list.json()) as Array<{ item: string; tenant_id: string }>;
  assert.deepEqual(orders.map((o) => o.item), ["book", "pen"]);
  assert.equal(typeof app.fetch, "function");
});

test("example: a cancelled request is refused", async () => {
  const shop = createApp();
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    shop.fetch(
      new Request("https://shop.example/orders", {
        method: "POST",
        body: JSON.stringify({ item: "book", quantity: 1 }),
        signal: controller.signal,
      }),
    ),
    (e: unknown) => (e as Error).name === "AbortError",
  );
});
