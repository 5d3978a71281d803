/**
 * `@krepis/core`: the explicit context of Krepis. Every async function takes `ctx: KrepisContext`
 * first and passes it on; the context carries the request's identity, its cancellation and
 * deadline, typed request-scoped values, and the clock and random source the domain uses instead
 * of `Date.now()` and `Math.random()`.
 *
 * ```ts
 * import { createContext, withTimeout, type KrepisContext } from "@krepis/core";
 *
 * async function work(ctx: KrepisContext): Promise<number> {
 *   ctx.signal.throwIfAborted();
 *   return ctx.clock.now();
 * }
 *
 * const { ctx, cancel } = withTimeout(createContext({ tenant_id: "acme" }), 1_000);
 * try { await work(ctx); } finally { cancel(); }
 * ```
 *
 * Adapters: `@krepis/core/fetch` (Request/Response servers), `@krepis/core/node` (Node http,
 * Express, Fastify); tests: `@krepis/core/testing`.
 *
 * @module
 */

export {
  type AbortSignalLike,
  type Cancellable,
  cancelledError,
  type Clock,
  type ContextKey,
  type ContextOptions,
  type ContextSignal,
  createContext,
  createKey,
  deadlineExceeded,
  done,
  err,
  fromKernel,
  isCancelled,
  isDeadlineExceeded,
  type KernelContext,
  type KrepisContext,
  remaining,
  sleep,
  systemClock,
  throwIfCancelled,
  withCancel,
  withDeadline,
  withTimeout,
  withValue,
} from "./context.ts";
export { cryptoRandom, type Random, traceIdFrom, uuidFrom } from "./random.ts";
export { parseTraceparent, type Traceparent } from "./trace.ts";
export type { Command, CommandHandler, Query, QueryHandler } from "./trinity.ts";
