/**
 * Deterministic contexts for tests and simulations: a virtual clock that moves only when told, a
 * seeded random source, and deadlines that fire on the virtual clock.
 *
 * ```ts
 * import { testContext } from "@krepis/core/testing";
 * import { withTimeout } from "@krepis/core";
 *
 * const t = testContext({ now: 1_000, seed: 42 });
 * const { ctx } = withTimeout(t, 500);
 * t.clock.advance(500); // ctx.signal.aborted === true, no real timer involved
 * ```
 *
 * @module
 */

import {
  type Clock,
  type ContextSignal,
  expiring,
  type KrepisContext,
  registerScheduler,
  rootContext,
  type Scheduler,
} from "./context.ts";
import { type Random, uuidFrom } from "./random.ts";

/** A clock that only moves when told; deadlines and `sleep`s on it fire as it passes them. */
export interface VirtualClock extends Clock {
  /** Moves the clock forward by `ms` (≥ 0), running what falls due on the way, in time order. */
  advance(ms: number): void;
  /** Sets the clock to `now`, running what falls due at or before it. */
  set(now: number): void;
  /** How many deadlines and sleeps are waiting on this clock. */
  pending(): number;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A virtual clock starting at `start` (ms since the epoch; default 0). */
export function virtualClock(start = 0): VirtualClock {
  checkTime("start", start);
  let now = start;
  let seq = 0;
  let timers: Timer[] = [];

  const runUntil = (target: number): void => {
    for (;;) {
      let first: Timer | undefined;
      for (const timer of timers) {
        if (timer.at <= target && (!first || timer.at < first.at || (timer.at === first.at && timer.seq < first.seq))) {
          first = timer;
        }
      }
      if (!first) break;
      const due = first;
      timers = timers.filter((timer) => timer !== due);
      if (due.at > now) now = due.at;
      due.fn();
    }
    now = target;
  };

  const clock: VirtualClock = Object.freeze({
    now: (): number => now,
    advance(ms: number): void {
      checkTime("ms", ms);
      if (ms < 0) throw new RangeError(`@krepis/core: advance(${ms}): the clock only moves forward`);
      runUntil(now + ms);
    },
    set(to: number): void {
      checkTime("now", to);
      runUntil(to);
    },
    pending: (): number => timers.length,
  });

  const scheduler: Scheduler = {
    at(at: number, fn: () => void): () => void {
      const timer: Timer = { at, seq: seq++, fn };
      timers.push(timer);
      return () => {
        timers = timers.filter((t) => t !== timer);
      };
    },
  };
  registerScheduler(clock, scheduler);
  return clock;
}

function checkTime(name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`@krepis/core: ${name} must be a finite number, got ${String(value)}`);
  }
}

/**
 * The mulberry32 generator: 32 bits of state, a new 32-bit output per call. Returns numbers in
 * [0, 1) with 32 random bits; the same seed gives the same sequence on every runtime.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded random source (mulberry32); `uuid()` is built from the same sequence. */
export function seededRandom(seed = 0): Random {
  const next = mulberry32(seed);
  return Object.freeze({ next, uuid: (): string => uuidFrom(next) });
}

/** A context whose clock is a {@link VirtualClock}. */
export interface TestContext extends KrepisContext {
  readonly clock: VirtualClock;
}

/** How to create a test context; every field is optional. */
export interface TestContextOptions {
  /** The virtual clock's start (ms since the epoch). Default: 0. */
  readonly now?: number;
  /** The random seed. Default: 0. */
  readonly seed?: number;
  /** Default: `"test-request"`. */
  readonly request_id?: string;
  /** Default: `"test-tenant"`. */
  readonly tenant_id?: string;
  /** Default: `"test-trace"`. */
  readonly trace_id?: string;
  /** Default: `false`. */
  readonly is_turbo_mode?: boolean;
  /** Cancels the context when it aborts. */
  readonly signal?: ContextSignal;
  /** A deadline on the virtual clock. */
  readonly deadline?: number;
  /** A deadline relative to `now`, on the virtual clock. */
  readonly timeout_ms?: number;
  /** Share a clock between contexts (then `now` is ignored). */
  readonly clock?: VirtualClock;
}

/**
 * A deterministic context: a virtual clock at `now`, mulberry32 randomness from `seed`, fixed ids.
 * Deadlines of it and of every context derived from it fire when `ctx.clock` is advanced past
 * them, never on their own.
 */
export function testContext(options: TestContextOptions = {}): TestContext {
  const clock = options.clock ?? virtualClock(options.now ?? 0);
  const root = rootContext({
    request_id: options.request_id ?? "test-request",
    tenant_id: options.tenant_id ?? "test-tenant",
    trace_id: options.trace_id ?? "test-trace",
    is_turbo_mode: options.is_turbo_mode ?? false,
    clock,
    random: seededRandom(options.seed ?? 0),
    signal: options.signal ?? new AbortController().signal,
  });
  return expiring(root, options.deadline, options.timeout_ms) as TestContext;
}
