import { test } from "node:test";
import assert from "node:assert/strict";
import { createContext, sleep, withCancel, withDeadline, withTimeout } from "../src/mod.ts";
import { mulberry32, seededRandom, testContext, virtualClock } from "../src/testing.ts";
import { tick } from "./helpers.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// mulberry32 with seed 42, checked against an independent implementation: the same numbers, bit
// for bit, in every runtime.
const SEED_42 = [
  0.6011037519201636,
  0.44829055899754167,
  0.8524657934904099,
  0.6697340414393693,
  0.17481389874592423,
];

test("seeded random: seed 42 gives the fixed sequence", () => {
  const ctx = testContext({ seed: 42 });
  const drawn = SEED_42.map(() => ctx.random.next());
  assert.deepEqual(drawn, SEED_42);
  const raw = mulberry32(42);
  assert.deepEqual(SEED_42.map(() => raw()), SEED_42);
});

test("seeded random: same seed same sequence, other seed other sequence, all in [0, 1)", () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const c = seededRandom(8);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(Array.from({ length: 1000 }, () => b.next()), xs);
  assert.notDeepEqual(Array.from({ length: 1000 }, () => c.next()), xs);
  for (const x of xs) assert.ok(x >= 0 && x < 1);
  assert.equal(new Set(xs).size, xs.length);
  assert.deepEqual(
    Array.from({ length: 3 }, seededRandom().next),
    [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197],
    "the default seed is 0",
  );
});

test("seeded random: uuid() is v4 formatted and reproducible from the seed", () => {
  assert.equal(testContext({ seed: 42 }).random.uuid(), "99e1ef7c-72c3-4b8a-9a3b-32c0ab73b0ad");
  const a = testContext({ seed: 1 }).random;
  const b = testContext({ seed: 1 }).random;
  const ids = Array.from({ length: 200 }, () => a.uuid());
  assert.deepEqual(Array.from({ length: 200 }, () => b.uuid()), ids);
  for (const id of ids) assert.match(id, UUID_V4);
  assert.equal(new Set(ids).size, ids.length);
  // Each uuid draws four numbers from the same stream.
  const r = seededRandom(42);
  r.uuid();
  assert.equal(r.next(), SEED_42[4]);
});

test("testContext: fixed defaults and options", () => {
  const t = testContext();
  assert.equal(t.request_id, "test-request");
  assert.equal(t.tenant_id, "test-tenant");
  assert.equal(t.trace_id, "test-trace");
  assert.equal(t.is_turbo_mode, false);
  assert.equal(t.clock.now(), 0);
  assert.equal(t.deadline, undefined);
  assert.ok(Object.isFrozen(t));
  assert.ok(Object.isFrozen(t.clock));
  const o = testContext({ now: 1_700_000_000_000, request_id: "r", tenant_id: "acme", is_turbo_mode: true });
  assert.equal(o.clock.now(), 1_700_000_000_000);
  assert.equal(o.request_id, "r");
  assert.equal(o.tenant_id, "acme");
  assert.equal(o.is_turbo_mode, true);
});

test("virtual clock: moves only when told", async () => {
  const t = testContext({ now: 500 });
  assert.equal(t.clock.now(), 500);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(t.clock.now(), 500, "real time passing does not move it");
  t.clock.advance(250);
  assert.equal(t.clock.now(), 750);
  t.clock.set(10_000);
  assert.equal(t.clock.now(), 10_000);
  t.clock.advance(0);
  assert.equal(t.clock.now(), 10_000);
  assert.throws(() => t.clock.advance(-1), RangeError);
  assert.throws(() => t.clock.advance(Number.NaN), TypeError);
  assert.throws(() => t.clock.set(Infinity), TypeError);
});

test("virtual clock: withTimeout(t, 1000) aborts exactly when advanced by 1000", () => {
  const t = testContext();
  const { ctx } = withTimeout(t, 1_000);
  assert.equal(ctx.deadline, 1_000);
  assert.equal(t.clock.pending(), 1);
  t.clock.advance(999);
  assert.equal(ctx.signal.aborted, false);
  t.clock.advance(1);
  assert.equal(ctx.signal.aborted, true);
  assert.equal((ctx.signal.reason as DOMException).name, "TimeoutError");
  assert.equal(t.clock.pending(), 0);
});

test("virtual clock: one advance past several deadlines fires them in time order, each at its time", () => {
  const t = testContext();
  const seen: Array<[string, number]> = [];
  const watch = (name: string, ms: number): void => {
    const { ctx } = withTimeout(t, ms);
    ctx.signal.addEventListener("abort", () => seen.push([name, t.clock.now()]));
  };
  watch("c", 300);
  watch("a", 100);
  watch("b", 200);
  watch("a2", 100);
  t.clock.advance(1_000);
  assert.deepEqual(seen, [["a", 100], ["a2", 100], ["b", 200], ["c", 300]]);
  assert.equal(t.clock.now(), 1_000);
});

test("virtual clock: set() fires deadlines at or before the new time", () => {
  const t = testContext({ now: 1_000 });
  const early = withDeadline(t, 1_500);
  const late = withDeadline(t, 3_000);
  t.clock.set(2_000);
  assert.equal(early.ctx.signal.aborted, true);
  assert.equal(late.ctx.signal.aborted, false);
  late.cancel();
  assert.equal(t.clock.pending(), 0, "cancelling removes the virtual timer");
});

test("virtual clock: deadlines never fire by themselves", async () => {
  const t = testContext();
  const { ctx } = withTimeout(t, 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(ctx.signal.aborted, false);
  t.clock.advance(1);
  assert.equal(ctx.signal.aborted, true);
});

test("virtual clock: shared between contexts, and sleeps ordered with deadlines", async () => {
  const clock = virtualClock(0);
  const a = testContext({ clock, seed: 1 });
  const b = testContext({ clock, seed: 2 });
  assert.equal(a.clock, b.clock);
  const order: string[] = [];
  const scope = withCancel(b);
  const napA = sleep(a, 30).then(() => order.push("a slept 30"));
  const napB = sleep(scope.ctx, 10).then(() => order.push("b slept 10"));
  clock.advance(10);
  await napB;
  clock.advance(20);
  await napA;
  assert.deepEqual(order, ["b slept 10", "a slept 30"]);
  await tick();
  assert.equal(clock.pending(), 0);
});

test("testContext: deadline and timeout options run on the virtual clock", () => {
  const t = testContext({ now: 100, timeout_ms: 50 });
  assert.equal(t.deadline, 150);
  t.clock.advance(50);
  assert.equal(t.signal.aborted, true);
  const d = testContext({ now: 100, deadline: 120, timeout_ms: 500 });
  assert.equal(d.deadline, 120, "the earlier of the two");
  const controller = new AbortController();
  const s = testContext({ signal: controller.signal });
  controller.abort();
  assert.equal(s.signal.aborted, true);
});

test("a real context is unaffected by virtual clocks", () => {
  const t = testContext();
  const real = withTimeout(createContext(), 60_000);
  t.clock.advance(120_000);
  assert.equal(real.ctx.signal.aborted, false);
  real.cancel();
});
