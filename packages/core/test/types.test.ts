// Type-level tests: checked by `deno check` and `tsc --noEmit`; the runtime part only makes sure
// the file runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type Cancellable,
  type Clock,
  type CommandHandler,
  type ContextKey,
  createContext,
  createKey,
  fromKernel,
  type KernelContext,
  type KrepisContext,
  type QueryHandler,
  type Random,
  withCancel,
  withValue,
} from "../src/mod.ts";
import type { HonoContextLike } from "../src/fetch.ts";
import type { IncomingMessageLike, MiddlewareRequest, MiddlewareResponse, ServerResponseLike } from "../src/node.ts";
import { type TestContext, testContext, type VirtualClock } from "../src/testing.ts";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

// The object the kernel's prelude builds, with the types TypeScript infers for it.
function kernelObject(): KernelContext {
  let now = 0;
  let seed = 1;
  const kernel = Object.freeze({
    request_id: "req-1",
    tenant_id: "default",
    trace_id: "trace-req-1",
    is_turbo_mode: false,
    clock: Object.freeze({ now: () => now++ }),
    random: Object.freeze({ next: () => (seed = (seed * 16807) % 2147483647) / 2147483647 }),
  });
  return kernel;
}

// The six kernel fields keep their names and types in KrepisContext...
assertType<Equals<KrepisContext["request_id"], string>>();
assertType<Equals<KrepisContext["tenant_id"], string>>();
assertType<Equals<KrepisContext["trace_id"], string>>();
assertType<Equals<KrepisContext["is_turbo_mode"], boolean>>();
assertType<Equals<ReturnType<KrepisContext["clock"]["now"]>, number>>();
assertType<Equals<ReturnType<KrepisContext["random"]["next"]>, number>>();
assertType<Equals<KrepisContext["deadline"], number | undefined>>();
assertType<Equals<KrepisContext["signal"], AbortSignal>>();
assertType<Equals<ReturnType<KrepisContext["random"]["uuid"]>, string>>();
// ...so a full context goes wherever the kernel's does, and Pick of the six is the kernel shape.
assertType<KrepisContext extends KernelContext ? true : false>();
assertType<
  Equals<
    keyof Pick<KrepisContext, "request_id" | "tenant_id" | "trace_id" | "is_turbo_mode" | "clock" | "random">,
    keyof KernelContext
  >
>();
const kernelParts: Pick<KrepisContext, "request_id" | "tenant_id" | "trace_id" | "is_turbo_mode"> & {
  clock: Pick<Clock, "now">;
  random: Pick<Random, "next">;
} = kernelObject();
// The kernel's object has no signal, deadline or value(): it is not a full context.
// @ts-expect-error: missing signal, deadline, value and random.uuid
const notFull: KrepisContext = kernelObject();
// Fields are read-only.
function readonlyFields(ctx: KrepisContext): void {
  // @ts-expect-error: request_id is read-only
  ctx.request_id = "x";
  // @ts-expect-error: signal is read-only
  ctx.signal = new AbortController().signal;
}

// Typed values.
const retries: ContextKey<number> = createKey<number>("retries");
function typedValues(ctx: KrepisContext): void {
  const n = withValue(ctx, retries, 3).value(retries);
  assertType<Equals<typeof n, number | undefined>>();
  // @ts-expect-error: a string is not a number
  withValue(ctx, retries, "three");
  const named = createKey<string>("name");
  // @ts-expect-error: keys of different types are not interchangeable
  const wrong: ContextKey<number> = named;
}

// Derivation results.
assertType<Equals<ReturnType<typeof withCancel>, Cancellable>>();
assertType<Equals<Cancellable["ctx"], KrepisContext>>();
// The test context exposes the virtual clock and is still a KrepisContext.
assertType<Equals<TestContext["clock"], VirtualClock>>();
assertType<TestContext extends KrepisContext ? true : false>();
assertType<Equals<ReturnType<VirtualClock["advance"]>, void>>();

// Trinity: a command handler resolves to void, a query handler to data.
class Ship implements CommandHandler<{ id: string }> {
  async handle(_ctx: KrepisContext, _command: { id: string }): Promise<void> {}
}
class Count implements QueryHandler<{ tenant: string }, number> {
  async handle(_ctx: KrepisContext, _query: { tenant: string }): Promise<number> {
    return 1;
  }
}
// @ts-expect-error: a command handler must not return data
const returnsData: CommandHandler<string> = { handle: async (): Promise<number> => 1 };
// @ts-expect-error: the context comes first
const noContext: QueryHandler<string, number> = { handle: async (query: string): Promise<number> => query.length };

// Node's own types fit the structural ones of @krepis/core/node (Express, Fastify's raw, NestJS).
function nodeShapes(req: IncomingMessage, res: ServerResponse): void {
  const a: IncomingMessageLike = req;
  const b: ServerResponseLike = res;
  const c: MiddlewareRequest = req;
  const d: MiddlewareResponse = Object.assign(res, { locals: { user: "u" } as Record<string, unknown> });
  void [a, b, c, d];
}

// A Hono-like context (generic `set` over its Variables) fits HonoContextLike.
interface HonoishContext<V> {
  req: { raw: Request; header(name: string): string | undefined };
  set: <K extends keyof V>(key: K, value: V[K]) => void;
  get: <K extends keyof V>(key: K) => V[K];
}
function honoShape(c: HonoishContext<{ ctx: KrepisContext; user: string }>): HonoContextLike {
  return c;
}

test("types: the type-level checks compile", () => {
  const kernel = kernelObject();
  const ctx = fromKernel(kernel);
  assert.equal(kernelParts.request_id, "req-1");
  assert.equal(notFull.request_id, "req-1");
  assert.equal(ctx.tenant_id, "default");
  const t: TestContext = testContext();
  const asKernel: KernelContext = t;
  assert.equal(asKernel.clock.now(), 0);
  assert.equal(typeof readonlyFields, "function");
  assert.equal(typeof typedValues, "function");
  assert.equal(typeof nodeShapes, "function");
  assert.equal(typeof honoShape, "function");
  assert.equal(typeof createContext, "function");
  assert.ok(new Ship() && new Count() && returnsData && noContext);
});
