import { test } from "node:test";
import assert from "node:assert/strict";
import { contextFromRequest, type HonoContextLike, honoMiddleware, withContext } from "../src/fetch.ts";
import { type KrepisContext, parseTraceparent, withCancel, withTimeout } from "../src/mod.ts";
import { seededRandom, virtualClock } from "../src/testing.ts";
import { aborted, isDeno, within } from "./helpers.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

test("parseTraceparent: the W3C header and its invalid forms", () => {
  assert.deepEqual(parseTraceparent(TRACEPARENT), {
    version: "00",
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    parent_id: "00f067aa0ba902b7",
    flags: "01",
  });
  assert.equal(parseTraceparent(` ${TRACEPARENT} `)?.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.equal(parseTraceparent(`cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what`)?.version, "cc");
  for (
    const bad of [
      undefined,
      null,
      "",
      "garbage",
      TRACEPARENT.toUpperCase(),
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      `${TRACEPARENT}-extra`,
      `${TRACEPARENT}, ${TRACEPARENT}`,
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    ]
  ) {
    assert.equal(parseTraceparent(bad), undefined, String(bad));
  }
});

test("contextFromRequest: reads x-request-id, x-tenant-id and traceparent", () => {
  const request = new Request("https://shop.example/orders", {
    headers: { "X-Request-Id": "req-42", "x-tenant-id": "acme", traceparent: TRACEPARENT },
  });
  const ctx = contextFromRequest(request);
  assert.equal(ctx.request_id, "req-42");
  assert.equal(ctx.tenant_id, "acme");
  assert.equal(ctx.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.equal(ctx.is_turbo_mode, false);
  assert.ok(Object.isFrozen(ctx));
});

test("contextFromRequest: missing or odd headers get defaults", () => {
  const ctx = contextFromRequest(new Request("https://shop.example/"));
  assert.match(ctx.request_id, UUID_V4);
  assert.equal(ctx.tenant_id, "default");
  assert.match(ctx.trace_id, /^[0-9a-f]{32}$/);
  const odd = contextFromRequest(
    new Request("https://shop.example/", {
      headers: { "x-request-id": "has spaces", "x-tenant-id": "x".repeat(201), traceparent: "nope" },
    }),
  );
  assert.match(odd.request_id, UUID_V4);
  assert.equal(odd.tenant_id, "default");
  assert.match(odd.trace_id, /^[0-9a-f]{32}$/);
  assert.notEqual(odd.trace_id, ctx.trace_id);
});

test("contextFromRequest: header names, tenant resolver, defaults, turbo, clock and random", () => {
  const request = new Request("https://acme.shop.example/", {
    headers: { "x-correlation-id": "corr-1", "x-org": "org-9" },
  });
  const named = contextFromRequest(request, {
    request_id_header: "x-correlation-id",
    tenant_id_header: "x-org",
    is_turbo_mode: true,
  });
  assert.equal(named.request_id, "corr-1");
  assert.equal(named.tenant_id, "org-9");
  assert.equal(named.is_turbo_mode, true);

  const resolved = contextFromRequest(request, {
    resolve_tenant: (r) => new URL(r.url).hostname.split(".")[0],
  });
  assert.equal(resolved.tenant_id, "acme");
  const fallback = contextFromRequest(request, { resolve_tenant: () => undefined, default_tenant_id: "public" });
  assert.equal(fallback.tenant_id, "public");

  const clock = virtualClock(1_000);
  const seeded = contextFromRequest(new Request("https://x.example/"), {
    clock,
    random: seededRandom(42),
    timeout_ms: 200,
  });
  assert.equal(seeded.request_id, "99e1ef7c-72c3-4b8a-9a3b-32c0ab73b0ad", "a request id from the given random");
  assert.equal(seeded.deadline, 1_200);
  clock.advance(200);
  assert.equal(seeded.signal.aborted, true);
});

test("contextFromRequest: the context aborts with request.signal, through derived children", async () => {
  const controller = new AbortController();
  const request = new Request("https://shop.example/", { signal: controller.signal });
  const ctx = contextFromRequest(request);
  const child = withTimeout(withCancel(ctx).ctx, 60_000);
  assert.equal(ctx.signal.aborted, false);
  controller.abort(new DOMException("client went away", "AbortError"));
  const reason = await within(aborted(child.ctx.signal), 1_000, "request abort");
  assert.equal((reason as DOMException).name, "AbortError");
  assert.equal(ctx.signal.aborted, true);
});

test("withContext: a fetch handler getting the context first, extra arguments passed on", async () => {
  let seen: KrepisContext | undefined;
  const handler = withContext(
    (ctx, request, info: { remoteAddr: string }) => {
      seen = ctx;
      return new Response(`${ctx.tenant_id} ${ctx.request_id} ${new URL(request.url).pathname} ${info.remoteAddr}`);
    },
    { default_tenant_id: "shop" },
  );
  const response = await handler(
    new Request("https://shop.example/orders", { headers: { "x-request-id": "abc" } }),
    { remoteAddr: "127.0.0.1" },
  );
  assert.equal(await response.text(), "shop abc /orders 127.0.0.1");
  assert.equal(seen?.request_id, "abc");

  const asyncHandler = withContext(async (ctx) => {
    await Promise.resolve();
    return Response.json({ trace: ctx.trace_id });
  });
  const json = await (await asyncHandler(new Request("https://x.example/", { headers: { traceparent: TRACEPARENT } })))
    .json();
  assert.deepEqual(json, { trace: "4bf92f3577b34da6a3ce929d0e0e4736" });

  const failing = withContext(() => {
    throw new Error("boom");
  });
  await assert.rejects(failing(new Request("https://x.example/")), /boom/);
});

test("honoMiddleware: sets c.get('ctx') from c.req.raw before the next handler", async () => {
  const store = new Map<string, unknown>();
  const c: HonoContextLike = {
    req: { raw: new Request("https://x.example/", { headers: { "x-tenant-id": "hono" } }) },
    set: (key, value) => void store.set(key, value),
  };
  let inNext: unknown;
  await honoMiddleware()(c, async () => {
    inNext = store.get("ctx");
  });
  assert.equal((inNext as KrepisContext).tenant_id, "hono");
});

interface DenoServe {
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { port: number }) => void },
    handler: (request: Request) => Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void> };
}

test("Deno.serve: withContext's context aborts when the client disconnects", { skip: !isDeno }, async () => {
  const deno = (globalThis as unknown as { Deno: DenoServe }).Deno;
  let received!: (ctx: KrepisContext) => void;
  const arrived = new Promise<KrepisContext>((resolve) => (received = resolve));
  let listening!: (port: number) => void;
  const ready = new Promise<number>((resolve) => (listening = resolve));
  const server = deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => listening(port) },
    withContext(async (ctx) => {
      received(ctx);
      await aborted(ctx.signal);
      return new Response("too late");
    }),
  );
  try {
    const port = await within(ready, 5_000, "listen");
    const client = new AbortController();
    const response = fetch(`http://127.0.0.1:${port}/slow`, {
      headers: { "x-tenant-id": "deno" },
      signal: client.signal,
    }).catch((e: unknown) => e);
    const ctx = await within(arrived, 5_000, "request to arrive");
    assert.equal(ctx.tenant_id, "deno");
    assert.equal(ctx.signal.aborted, false);
    client.abort();
    await within(aborted(ctx.signal), 5_000, "abort on disconnect");
    assert.equal((await response as Error).name, "AbortError");
  } finally {
    await server.shutdown();
  }
});
