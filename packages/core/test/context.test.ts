import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  createContext,
  createKey,
  done,
  err,
  fromKernel,
  isCancelled,
  isDeadlineExceeded,
  type KrepisContext,
  remaining,
  sleep,
  throwIfCancelled,
  withCancel,
  withDeadline,
  withTimeout,
  withValue,
} from "../src/mod.ts";
import { testContext } from "../src/testing.ts";
import { aborted, isDeno, tick, within, withoutAbortSignalAny } from "./helpers.ts";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("createContext: defaults are a random request id and trace id, tenant default", () => {
  const a = createContext();
  const b = createContext();
  assert.match(a.request_id, UUID_V4);
  assert.notEqual(a.request_id, b.request_id);
  assert.match(a.trace_id, /^[0-9a-f]{32}$/);
  assert.notEqual(a.trace_id, b.trace_id);
  assert.equal(a.tenant_id, "default");
  assert.equal(a.is_turbo_mode, false);
  assert.equal(a.deadline, undefined);
  assert.equal(a.signal.aborted, false);
  assert.equal(remaining(a), Infinity);
});

test("createContext: given fields are kept; the clock is Date.now and random is in [0, 1)", () => {
  const ctx = createContext({ request_id: "r-1", tenant_id: "acme", trace_id: "t-1", is_turbo_mode: true });
  assert.equal(ctx.request_id, "r-1");
  assert.equal(ctx.tenant_id, "acme");
  assert.equal(ctx.trace_id, "t-1");
  assert.equal(ctx.is_turbo_mode, true);
  const before = Date.now();
  const now = ctx.clock.now();
  assert.ok(now >= before && now <= Date.now());
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const x = ctx.random.next();
    assert.ok(x >= 0 && x < 1, `${x} in [0, 1)`);
    seen.add(x);
  }
  assert.ok(seen.size > 990, "crypto numbers do not repeat");
  for (let i = 0; i < 50; i++) assert.match(ctx.random.uuid(), UUID_V4);
});

test("createContext: signal and deadline options", async () => {
  const controller = new AbortController();
  const ctx = createContext({ signal: controller.signal, deadline: Date.now() + 60_000 });
  assert.ok(ctx.deadline !== undefined && ctx.deadline > Date.now());
  controller.abort("stop");
  assert.equal(ctx.signal.aborted, true);
  assert.equal(ctx.signal.reason, "stop");

  const quick = createContext({ timeout_ms: 20 });
  const reason = await within(aborted(quick.signal), 2_000, "timeout_ms");
  assert.ok(isDeadlineExceeded(reason));
});

test("contexts are frozen and deriving never changes the parent", () => {
  const parent = createContext({ tenant_id: "acme" });
  assert.ok(Object.isFrozen(parent));
  assert.ok(Object.isFrozen(parent.clock));
  assert.ok(Object.isFrozen(parent.random));
  assert.throws(() => {
    (parent as { tenant_id: string }).tenant_id = "other";
  }, TypeError);
  assert.equal(parent.tenant_id, "acme");

  const snapshot = { ...parent };
  const key = createKey<number>("n");
  const { ctx, cancel } = withTimeout(withValue(parent, key, 1), 1_000);
  assert.ok(Object.isFrozen(ctx));
  cancel();
  assert.deepEqual({ ...parent }, snapshot);
  assert.equal(parent.signal.aborted, false);
  assert.equal(parent.deadline, undefined);
  assert.equal(parent.value(key), undefined);
  // Children share the identity, the clock and the random source.
  assert.equal(ctx.request_id, parent.request_id);
  assert.equal(ctx.trace_id, parent.trace_id);
  assert.equal(ctx.clock, parent.clock);
  assert.equal(ctx.random, parent.random);
  assert.notEqual(ctx.signal, parent.signal);
});

for (const mode of ["AbortSignal.any", "listener fallback"] as const) {
  const derive = <T>(fn: () => T): T => (mode === "AbortSignal.any" ? fn() : withoutAbortSignalAny(fn));

  test(`cancellation reaches three levels of children (${mode})`, () => {
    const root = createContext();
    const a = derive(() => withCancel(root));
    const b = derive(() => withCancel(a.ctx));
    const c = derive(() => withCancel(b.ctx));
    assert.equal(c.ctx.signal.aborted, false);
    const reason = new Error("shutting down");
    a.cancel(reason);
    assert.equal(a.ctx.signal.aborted, true);
    assert.equal(b.ctx.signal.aborted, true);
    assert.equal(c.ctx.signal.aborted, true);
    assert.equal(c.ctx.signal.reason, reason, "the reason travels down");
    assert.equal(err(c.ctx), reason);
    assert.equal(root.signal.aborted, false);
  });

  test(`cancelling a child never reaches its parent or siblings (${mode})`, () => {
    const root = createContext();
    const parent = derive(() => withCancel(root));
    const left = derive(() => withCancel(parent.ctx));
    const right = derive(() => withCancel(parent.ctx));
    const grandchild = derive(() => withCancel(left.ctx));
    left.cancel();
    assert.equal(left.ctx.signal.aborted, true);
    assert.equal(grandchild.ctx.signal.aborted, true);
    assert.equal(parent.ctx.signal.aborted, false);
    assert.equal(right.ctx.signal.aborted, false);
    assert.equal(root.signal.aborted, false);
    assert.equal((left.ctx.signal.reason as Error).name, "AbortError");
  });

  test(`a child of an aborted parent starts aborted (${mode})`, () => {
    const parent = derive(() => withCancel(createContext()));
    parent.cancel("gone");
    const child = derive(() => withTimeout(parent.ctx, 1_000));
    assert.equal(child.ctx.signal.aborted, true);
    assert.equal(child.ctx.signal.reason, "gone");
  });

  test(`virtual deadlines abort parent and children in time order (${mode})`, () => {
    const t = testContext({ now: 1_000 });
    const outer = derive(() => withTimeout(t, 100));
    const inner = derive(() => withTimeout(outer.ctx, 50));
    const longer = derive(() => withTimeout(outer.ctx, 500));
    assert.equal(inner.ctx.deadline, 1_050);
    assert.equal(longer.ctx.deadline, 1_100, "a child never outlives its parent");
    t.clock.advance(49);
    assert.equal(inner.ctx.signal.aborted, false);
    t.clock.advance(1);
    assert.equal(inner.ctx.signal.aborted, true);
    assert.ok(isDeadlineExceeded(inner.ctx.signal.reason));
    assert.equal(outer.ctx.signal.aborted, false);
    t.clock.advance(50);
    assert.equal(outer.ctx.signal.aborted, true);
    assert.equal(longer.ctx.signal.aborted, true);
    assert.ok(isDeadlineExceeded(longer.ctx.signal.reason));
    assert.equal(t.signal.aborted, false);
    assert.equal(t.clock.pending(), 0, "no timer is left behind");
  });
}

test("withDeadline: an earlier parent deadline wins, a past deadline aborts at once", () => {
  const t = testContext({ now: 10_000 });
  const parent = withDeadline(t, 10_500);
  assert.equal(withDeadline(parent.ctx, 20_000).ctx.deadline, 10_500);
  assert.equal(withDeadline(parent.ctx, 10_200).ctx.deadline, 10_200);
  const past = withDeadline(t, 9_000);
  assert.equal(past.ctx.signal.aborted, true);
  assert.ok(isDeadlineExceeded(past.ctx.signal.reason));
  assert.equal(withTimeout(t, 0).ctx.signal.aborted, true);
  assert.equal(withTimeout(t, Infinity).ctx.deadline, undefined);
  assert.throws(() => withTimeout(t, Number.NaN), TypeError);
  parent.cancel();
  assert.equal(t.clock.pending(), 0);
});

test("real deadlines: a 20 ms timeout aborts after about 20 ms with a TimeoutError", async () => {
  const start = Date.now();
  const { ctx } = withTimeout(createContext(), 20);
  assert.ok(ctx.deadline !== undefined && ctx.deadline >= start + 20);
  const reason = await within(aborted(ctx.signal), 2_000, "deadline");
  const elapsed = Date.now() - start;
  assert.ok(elapsed >= 15, `fired after ${elapsed} ms`);
  assert.ok(isDeadlineExceeded(reason));
  assert.equal((reason as DOMException).name, "TimeoutError");
  assert.equal(isCancelled(ctx), true);
});

test("real deadlines: a parent's 20 ms timeout reaches a child with a longer one", async () => {
  const parent = withTimeout(createContext(), 20);
  const child = withTimeout(parent.ctx, 10_000);
  const grandchild = withCancel(child.ctx);
  const reason = await within(aborted(grandchild.ctx.signal), 2_000, "inherited deadline");
  assert.ok(isDeadlineExceeded(reason));
  assert.equal(child.ctx.signal.aborted, true);
});

test("real deadlines: cancel clears the timer, and cancelling twice keeps the first reason", () => {
  const original = { set: globalThis.setTimeout, clear: globalThis.clearTimeout };
  const live = new Set<unknown>();
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    const id = original.set(() => {
      live.delete(id);
      fn();
    }, ms);
    live.add(id);
    return id;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((id: ReturnType<typeof setTimeout>) => {
    live.delete(id);
    original.clear(id);
  }) as typeof clearTimeout;
  try {
    const root = createContext();
    const a = withTimeout(root, 60_000);
    const b = withTimeout(a.ctx, 30_000);
    assert.equal(live.size, 2);
    b.cancel("first");
    b.cancel("second");
    assert.equal(b.ctx.signal.reason, "first");
    assert.equal(live.size, 1, "the cancelled child's timer is cleared");
    a.cancel();
    assert.equal(live.size, 0, "no timer left");
    // A parent's abort clears the children's timers too.
    const c = withCancel(root);
    withTimeout(c.ctx, 60_000);
    withTimeout(c.ctx, 70_000);
    assert.equal(live.size, 2);
    c.cancel();
    assert.equal(live.size, 0);
  } finally {
    globalThis.setTimeout = original.set;
    globalThis.clearTimeout = original.clear;
  }
});

test("pending deadlines never keep the process alive; sleep does until it is over", () => {
  const self = fileURLToPath(import.meta.url);
  const fixture = self.replace(/context\.test\.(ts|js)$/, "fixtures/unref.$1");
  const args = isDeno ? ["run", "--quiet", fixture] : [fixture];
  const start = Date.now();
  const run = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 20_000 });
  const elapsed = Date.now() - start;
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, "pending\nslept\n");
  assert.ok(elapsed < 15_000, `exited after ${elapsed} ms, not at the 60 s deadline`);
});

test("typed values: set on a child, seen by descendants, shadowed, absent in the parent", () => {
  const user = createKey<{ id: string }>("user");
  const attempt = createKey<number>("attempt");
  const other = createKey<number>("attempt");
  const root = testContext();
  const a = withValue(root, user, { id: "u1" });
  const b = withValue(withCancel(a).ctx, attempt, 1);
  const c = withValue(b, attempt, 2);
  assert.equal(root.value(user), undefined);
  assert.deepEqual(a.value(user), { id: "u1" });
  assert.deepEqual(c.value(user), { id: "u1" }, "inherited through a cancel child");
  assert.equal(b.value(attempt), 1);
  assert.equal(c.value(attempt), 2, "the nearest value wins");
  assert.equal(c.value(other), undefined, "keys compare by identity, not by name");
  assert.equal(withValue(c, attempt, undefined as unknown as number).value(attempt), undefined);
  assert.equal(user.name, "user");
  assert.equal(String(user), "ContextKey(user)");
  // withValue shares the signal and the deadline.
  const timed = withTimeout(root, 100);
  const valued = withValue(timed.ctx, attempt, 3);
  assert.equal(valued.signal, timed.ctx.signal);
  assert.equal(valued.deadline, timed.ctx.deadline);
  timed.cancel();
});

test("helpers: err, isCancelled, throwIfCancelled, done, remaining", async () => {
  const t = testContext({ now: 0 });
  const { ctx, cancel } = withTimeout(t, 1_000);
  assert.equal(err(ctx), undefined);
  assert.equal(isCancelled(ctx), false);
  throwIfCancelled(ctx);
  assert.equal(remaining(ctx), 1_000);
  t.clock.advance(400);
  assert.equal(remaining(ctx), 600);
  const whenDone = done(ctx);
  const reason = new Error("user left");
  cancel(reason);
  assert.equal(await whenDone, reason);
  assert.equal(await done(ctx), reason);
  assert.equal(isCancelled(ctx), true);
  assert.equal(err(ctx), reason);
  assert.throws(() => throwIfCancelled(ctx), (e: unknown) => e === reason);
  assert.throws(() => ctx.signal.throwIfAborted(), (e: unknown) => e === reason);
  assert.equal(remaining(ctx), 600, "remaining reads the deadline, not the signal");
});

test("sleep: resolves on the virtual clock, rejects when the context ends", async () => {
  const t = testContext();
  let woke = false;
  const nap = sleep(t, 100).then(() => (woke = true));
  t.clock.advance(99);
  await tick();
  assert.equal(woke, false);
  t.clock.advance(1);
  await nap;
  assert.equal(woke, true);

  const { ctx } = withTimeout(t, 50);
  const cut = sleep(ctx, 100);
  t.clock.advance(50);
  await assert.rejects(cut, (e: unknown) => isDeadlineExceeded(e));
  assert.equal(t.clock.pending(), 0, "the rejected sleep's timer is gone");
  await assert.rejects(sleep(ctx, 1), (e: unknown) => isDeadlineExceeded(e));
});

test("sleep: real clock", async () => {
  const start = Date.now();
  await within(sleep(createContext(), 20), 2_000, "sleep");
  assert.ok(Date.now() - start >= 15);
  const { ctx, cancel } = withCancel(createContext());
  const nap = sleep(ctx, 10_000);
  cancel();
  await assert.rejects(nap, (e: unknown) => (e as Error).name === "AbortError");
});

test("fromKernel: upgrades the kernel's frozen context", () => {
  let now = 5;
  let seed = 7;
  const kernel = Object.freeze({
    request_id: "req-1",
    tenant_id: "default",
    trace_id: "trace-req-1",
    is_turbo_mode: true,
    clock: Object.freeze({ now: () => now++ }),
    random: Object.freeze({
      next: () => {
        seed ^= seed << 13;
        seed >>>= 0;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        seed >>>= 0;
        return seed / 4294967296;
      },
    }),
  });
  const ctx: KrepisContext = fromKernel(kernel);
  assert.equal(ctx.request_id, "req-1");
  assert.equal(ctx.trace_id, "trace-req-1");
  assert.equal(ctx.is_turbo_mode, true);
  assert.equal(ctx.clock, kernel.clock);
  assert.equal(ctx.clock.now(), 5);
  assert.match(ctx.random.uuid(), UUID_V4);
  assert.equal(ctx.signal.aborted, false);
  assert.equal(ctx.deadline, undefined);
  assert.equal(fromKernel(ctx), ctx, "a full context is returned as it is");
  const { cancel, ctx: child } = withCancel(ctx);
  cancel();
  assert.equal(child.signal.aborted, true);
});

test("derivation works on a context object from elsewhere (spread copy)", () => {
  const t = testContext();
  const copy: KrepisContext = { ...t, tenant_id: "copied" };
  const { ctx } = withTimeout(copy, 10);
  assert.equal(ctx.tenant_id, "copied");
  t.clock.advance(10);
  assert.equal(ctx.signal.aborted, true, "the copy's virtual clock still drives the deadline");
});
