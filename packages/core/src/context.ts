/**
 * The context itself: the `KrepisContext` interface, how to create one, and how to derive
 * cancellable children with deadlines and values.
 *
 * @module
 */

import { cryptoRandom, type Random, traceIdFrom, uuidFrom } from "./random.ts";

export type { Random } from "./random.ts";

/** A source of time: milliseconds since the Unix epoch. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/**
 * The part of an `AbortSignal` a context is sure to have. {@link ContextSignal} falls back to it in
 * projects whose type declarations know no `AbortSignal` (no DOM lib and an `@types/node` older
 * than 16); everywhere else a context's signal is the runtime's own `AbortSignal`.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/**
 * A context's signal: the global `AbortSignal` type where the project's declarations have one (the
 * DOM lib, `@types/node`, Deno), so it can be handed to `fetch` and friends; else
 * {@link AbortSignalLike}. The package's declarations compile either way.
 */
export type ContextSignal = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S
  : AbortSignalLike;

declare const valueType: unique symbol;

/**
 * A typed key for {@link withValue} and {@link KrepisContext.value}. Keys compare by identity:
 * two keys created with the same name are different keys.
 */
export interface ContextKey<T> {
  /** The name given to {@link createKey}, for debugging. */
  readonly name: string;
  /** Carries the value type; never set at runtime. */
  readonly [valueType]?: T;
}

/**
 * The context the Krepis kernel passes to scripts: exactly the fields it has. A
 * {@link KrepisContext} is assignable to it, and {@link fromKernel} turns one into a full context.
 */
export interface KernelContext {
  readonly request_id: string;
  readonly tenant_id: string;
  readonly trace_id: string;
  readonly is_turbo_mode: boolean;
  readonly clock: { now(): number };
  readonly random: { next(): number };
}

/**
 * The explicit context every async function takes first and passes on: who is asking (request,
 * tenant, trace), when to stop (signal, deadline), request-scoped values, and the clock and random
 * source the domain uses instead of `Date.now()` and `Math.random()`.
 *
 * Contexts are frozen; derive children with {@link withCancel}, {@link withTimeout},
 * {@link withDeadline} and {@link withValue}.
 */
export interface KrepisContext extends KernelContext {
  readonly request_id: string;
  readonly tenant_id: string;
  readonly trace_id: string;
  readonly is_turbo_mode: boolean;
  /** The time source. */
  readonly clock: Clock;
  /** The random source. */
  readonly random: Random;
  /** Aborts when the context is cancelled or its deadline passes; the reason says which. */
  readonly signal: ContextSignal;
  /** When the context expires, in milliseconds since the epoch (by `clock`), if ever. */
  readonly deadline: number | undefined;
  /** The value stored under `key` by this context or an ancestor, if any. */
  value<T>(key: ContextKey<T>): T | undefined;
}

/** A derived context and the function that cancels it (and every context derived from it). */
export interface Cancellable {
  readonly ctx: KrepisContext;
  /**
   * Aborts the context's signal with `reason` (a `DOMException` named `AbortError` by default).
   * Calling it again, or after the context ended otherwise, does nothing. Call it when the work is
   * done to release the deadline timer early.
   */
  cancel(reason?: unknown): void;
}

/** How to create a root context; every field is optional. */
export interface ContextOptions {
  /** Default: a random UUID. */
  readonly request_id?: string;
  /** Default: `"default"`. */
  readonly tenant_id?: string;
  /** Default: a random W3C trace id (32 hex digits). */
  readonly trace_id?: string;
  /** Default: `false`. */
  readonly is_turbo_mode?: boolean;
  /** Cancels the context when it aborts (for example `request.signal`). */
  readonly signal?: ContextSignal;
  /** An absolute deadline, in milliseconds since the epoch. */
  readonly deadline?: number;
  /** A deadline relative to now; with `deadline` too, the earlier one wins. */
  readonly timeout_ms?: number;
  /** Default: the system clock (`Date.now()`). */
  readonly clock?: Clock;
  /** Default: `crypto.getRandomValues` and `crypto.randomUUID`. */
  readonly random?: Random;
}

/**
 * Runs callbacks at a time on some clock. Real clocks use real timers; the virtual clock of
 * `@krepis/core/testing` runs them when it is advanced.
 * @internal
 */
export interface Scheduler {
  /**
   * Runs `fn` once, at `at` (ms since the epoch); returns a function that cancels it. A real timer
   * is unref'd unless `keepAlive` is set.
   */
  at(at: number, fn: () => void, keepAlive?: boolean): () => void;
}

const schedulers = new WeakMap<object, Scheduler>();

/** Makes contexts whose clock is `clock` schedule deadlines on `scheduler`. @internal */
export function registerScheduler(clock: Clock, scheduler: Scheduler): void {
  schedulers.set(clock, scheduler);
}

/** setTimeout's limit: longer delays fire at once, so they are waited for in steps. */
const MAX_DELAY = 2147483647;

type TimerHandle = ReturnType<typeof setTimeout>;

/** Keeps a pending timer from holding the process open (Node and Bun: `unref`; Deno: `unrefTimer`). */
function unref(handle: TimerHandle): void {
  if (typeof handle === "object" && handle !== null) {
    const timer = handle as { unref?: () => unknown };
    if (typeof timer.unref === "function") timer.unref();
  } else if (typeof handle === "number") {
    const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
    if (deno && typeof deno.unrefTimer === "function") deno.unrefTimer(handle);
  }
}

/** The remaining time is read from `clock` once; real timers then count it down. */
function realScheduler(clock: Clock): Scheduler {
  return {
    at(at: number, fn: () => void, keepAlive = false): () => void {
      let handle: TimerHandle | undefined;
      let left = Math.max(0, at - clock.now());
      const arm = (): void => {
        const step = Math.min(left, MAX_DELAY);
        left -= step;
        handle = setTimeout(() => {
          handle = undefined;
          if (left > 0) arm();
          else fn();
        }, step);
        if (!keepAlive) unref(handle);
      };
      arm();
      return () => {
        if (handle !== undefined) clearTimeout(handle);
        handle = undefined;
      };
    },
  };
}

function schedulerFor(clock: Clock): Scheduler {
  return schedulers.get(clock) ?? realScheduler(clock);
}

/** The system clock: `Date.now()`. */
export const systemClock: Clock = Object.freeze({ now: (): number => Date.now() });

interface Fields {
  readonly request_id: string;
  readonly tenant_id: string;
  readonly trace_id: string;
  readonly is_turbo_mode: boolean;
  readonly clock: Clock;
  readonly random: Random;
  readonly signal: ContextSignal;
  readonly deadline: number | undefined;
  readonly lookup: (key: ContextKey<unknown>) => unknown;
}

function build(fields: Fields): KrepisContext {
  const lookup = fields.lookup;
  return Object.freeze({
    request_id: fields.request_id,
    tenant_id: fields.tenant_id,
    trace_id: fields.trace_id,
    is_turbo_mode: fields.is_turbo_mode,
    clock: fields.clock,
    random: fields.random,
    signal: fields.signal,
    deadline: fields.deadline,
    value<T>(key: ContextKey<T>): T | undefined {
      return lookup(key) as T | undefined;
    },
  });
}

/** A context like `parent` with another signal, deadline or value lookup. */
function child(
  parent: KrepisContext,
  signal: AbortSignal,
  deadline: number | undefined,
  lookup: (key: ContextKey<unknown>) => unknown = (key) => parent.value(key),
): KrepisContext {
  return build({
    request_id: parent.request_id,
    tenant_id: parent.tenant_id,
    trace_id: parent.trace_id,
    is_turbo_mode: parent.is_turbo_mode,
    clock: parent.clock,
    random: parent.random,
    signal,
    deadline,
    lookup,
  });
}

const NO_VALUES = (): undefined => undefined;

function newSignal(): AbortSignal {
  return new AbortController().signal;
}

function validTime(name: string, value: number): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`@krepis/core: ${name} must be a number, got ${String(value)}`);
  }
  return value;
}

/** The reason a context's signal aborts with when its deadline passes. */
export function deadlineExceeded(): Error {
  return new DOMException("The context deadline was exceeded", "TimeoutError");
}

/** The default reason of `cancel()`. */
export function cancelledError(): Error {
  return new DOMException("The context was cancelled", "AbortError");
}

/** Whether `reason` (a signal's abort reason, or a caught error) is a passed deadline. */
export function isDeadlineExceeded(reason: unknown): boolean {
  return typeof reason === "object" && reason !== null &&
    (reason as { name?: unknown }).name === "TimeoutError";
}

type AnyFn = (signals: AbortSignal[]) => AbortSignal;

/** Derives a child that aborts with its parent, on `cancel`, or at `own` (ms since the epoch). */
function derive(parent: KrepisContext, own: number | undefined): Cancellable {
  const controller = new AbortController();
  const parentSignal = parent.signal;
  const cleanups: Array<() => void> = [];
  let signal: AbortSignal;
  const any = (AbortSignal as unknown as { any?: AnyFn }).any;
  if (parentSignal.aborted) {
    controller.abort(parentSignal.reason);
    signal = controller.signal;
  } else if (typeof any === "function") {
    signal = any.call(AbortSignal, [parentSignal, controller.signal]);
  } else {
    // Runtimes without AbortSignal.any: forward the parent's abort by hand, and stop listening
    // once this child has ended so a long-lived parent does not collect dead listeners.
    signal = controller.signal;
    const forward = (): void => controller.abort(parentSignal.reason);
    parentSignal.addEventListener("abort", forward, { once: true });
    cleanups.push(() => parentSignal.removeEventListener("abort", forward));
  }

  // The earlier deadline wins; only a deadline earlier than the parent's needs a timer of its own
  // (the parent's signal covers the rest). An infinite deadline is no deadline.
  const inherited = parent.deadline;
  const ownWins = own !== undefined && own !== Infinity && (inherited === undefined || own < inherited);
  const deadline = ownWins ? own : inherited;
  if (ownWins && !signal.aborted) {
    if (own <= parent.clock.now()) {
      controller.abort(deadlineExceeded());
    } else {
      cleanups.push(schedulerFor(parent.clock).at(own, () => controller.abort(deadlineExceeded())));
    }
  }

  if (cleanups.length > 0) {
    const release = (): void => {
      for (const cleanup of cleanups) cleanup();
    };
    if (signal.aborted) release();
    else signal.addEventListener("abort", release, { once: true });
  }

  return Object.freeze({
    ctx: child(parent, signal, deadline),
    cancel(reason?: unknown): void {
      if (!controller.signal.aborted) controller.abort(reason === undefined ? cancelledError() : reason);
    },
  });
}

/** A child of `ctx` that is cancelled by `cancel()` or when `ctx` is; `ctx` is left as it is. */
export function withCancel(ctx: KrepisContext): Cancellable {
  return derive(ctx, undefined);
}

/**
 * A child of `ctx` that expires at `deadline` (ms since the epoch, by `ctx.clock`), or earlier if
 * `ctx` expires earlier. Its signal aborts with a `TimeoutError` `DOMException` when it expires.
 */
export function withDeadline(ctx: KrepisContext, deadline: number): Cancellable {
  return derive(ctx, validTime("deadline", deadline));
}

/** A child of `ctx` that expires `ms` milliseconds from now (by `ctx.clock`). */
export function withTimeout(ctx: KrepisContext, ms: number): Cancellable {
  return derive(ctx, ctx.clock.now() + Math.max(0, validTime("timeout", ms)));
}

/** A child of `ctx` where `ctx.value(key)` is `value`; everything else is shared with `ctx`. */
export function withValue<T>(ctx: KrepisContext, key: ContextKey<T>, value: T): KrepisContext {
  return child(ctx, ctx.signal, ctx.deadline, (k) => (k === key ? value : ctx.value(k)));
}

/** A new key for values of type `T`. */
export function createKey<T>(name: string): ContextKey<T> {
  return Object.freeze({ name, toString: (): string => `ContextKey(${name})` }) as ContextKey<T>;
}

/**
 * A root context: the real clock, crypto randomness, and the given fields. With `signal`, the
 * context aborts when it does; with `deadline` or `timeout_ms`, it expires (the deadline timer
 * never keeps the process alive).
 */
export function createContext(options: ContextOptions = {}): KrepisContext {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom();
  const root = build({
    request_id: options.request_id ?? random.uuid(),
    tenant_id: options.tenant_id ?? "default",
    trace_id: options.trace_id ?? traceIdFrom(() => random.next()),
    is_turbo_mode: options.is_turbo_mode ?? false,
    clock,
    random,
    signal: options.signal ?? newSignal(),
    deadline: undefined,
    lookup: NO_VALUES,
  });
  return expiring(root, options.deadline, options.timeout_ms);
}

/** `ctx`, or a child of it expiring at the earlier of `deadline` and now + `timeout_ms`. @internal */
export function expiring(ctx: KrepisContext, deadline?: number, timeout_ms?: number): KrepisContext {
  let at = deadline === undefined ? undefined : validTime("deadline", deadline);
  if (timeout_ms !== undefined) {
    const relative = ctx.clock.now() + Math.max(0, validTime("timeout_ms", timeout_ms));
    at = at === undefined ? relative : Math.min(at, relative);
  }
  return at === undefined ? ctx : derive(ctx, at).ctx;
}

/** Builds a root context from parts (for `@krepis/core/testing`). @internal */
export function rootContext(fields: Omit<Fields, "lookup" | "deadline">): KrepisContext {
  return build({ ...fields, deadline: undefined, lookup: NO_VALUES });
}

/**
 * A full context from the one the Krepis kernel passes to scripts: the same fields, clock and
 * random source (with `uuid()` built from `random.next()`), a signal that never aborts and no
 * deadline. A context that already is a full `KrepisContext` is returned as it is.
 */
export function fromKernel(ctx: KernelContext): KrepisContext {
  const full = ctx as Partial<KrepisContext>;
  if (typeof full.value === "function" && full.signal !== undefined && typeof full.random?.uuid === "function") {
    return ctx as KrepisContext;
  }
  const source = ctx.random;
  const next = (): number => source.next();
  const random: Random = Object.freeze({
    next,
    uuid: typeof (source as Partial<Random>).uuid === "function"
      ? (): string => (source as Random).uuid()
      : (): string => uuidFrom(next),
  });
  return rootContext({
    request_id: ctx.request_id,
    tenant_id: ctx.tenant_id,
    trace_id: ctx.trace_id,
    is_turbo_mode: ctx.is_turbo_mode,
    clock: ctx.clock,
    random,
    signal: newSignal(),
  });
}

/** Whether `ctx` has been cancelled or has expired. */
export function isCancelled(ctx: KrepisContext): boolean {
  return ctx.signal.aborted;
}

/** Why `ctx` ended (its signal's abort reason), or `undefined` while it is live. Go's `ctx.Err()`. */
export function err(ctx: KrepisContext): unknown {
  return ctx.signal.aborted ? ctx.signal.reason : undefined;
}

/** Throws the abort reason if `ctx` has been cancelled or has expired. */
export function throwIfCancelled(ctx: KrepisContext): void {
  if (ctx.signal.aborted) throw ctx.signal.reason;
}

/** Resolves with the abort reason once `ctx` is cancelled or expires (Go's `<-ctx.Done()`). */
export function done(ctx: KrepisContext): Promise<unknown> {
  const signal = ctx.signal;
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) => {
    signal.addEventListener("abort", () => resolve(signal.reason), { once: true });
  });
}

/** Milliseconds left until `ctx`'s deadline (by `ctx.clock`, at least 0), or `Infinity` if none. */
export function remaining(ctx: KrepisContext): number {
  return ctx.deadline === undefined ? Infinity : Math.max(0, ctx.deadline - ctx.clock.now());
}

/**
 * Waits `ms` milliseconds on `ctx.clock` (a virtual clock waits until it is advanced), rejecting
 * with the abort reason if `ctx` ends first.
 */
export function sleep(ctx: KrepisContext, ms: number): Promise<void> {
  const signal = ctx.signal;
  if (signal.aborted) return Promise.reject(signal.reason);
  const at = ctx.clock.now() + Math.max(0, validTime("ms", ms));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      stop();
      reject(signal.reason);
    };
    const stop = schedulerFor(ctx.clock).at(at, () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, true);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
