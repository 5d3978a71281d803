/**
 * Contexts for servers built on the standard `Request` and `Response`: `Deno.serve`, Bun,
 * Cloudflare Workers, Hono (`c.req.raw`), and anything else fetch-shaped.
 *
 * ```ts
 * import { withContext } from "@krepis/core/fetch";
 *
 * Deno.serve(withContext((ctx, request) => new Response(`hello ${ctx.tenant_id}`)));
 * ```
 *
 * @module
 */

import type { KrepisContext } from "./context.ts";
import { requestContext, type RequestContextOptions } from "./request.ts";

export type { RequestContextOptions } from "./request.ts";

/** Options of {@link contextFromRequest}: header names, tenant resolution, a timeout. */
export type FetchContextOptions = RequestContextOptions<Request>;

/**
 * The context of a `Request`: `x-request-id` (or a random UUID), `x-tenant-id` (or the resolver's
 * answer, or `"default"`), the trace id of a valid `traceparent` header (or a random one), and a
 * signal that aborts with `request.signal` (when the client goes away, on runtimes that report it).
 */
export function contextFromRequest(request: Request, options: FetchContextOptions = {}): KrepisContext {
  const headers = request.headers;
  return requestContext(request, (name) => headers.get(name) ?? undefined, request.signal, options);
}

/** A plain fetch handler: what `Deno.serve`, Bun and Workers call for each request. */
export type FetchHandler<A extends unknown[] = []> = (request: Request, ...rest: A) => Promise<Response>;

/**
 * Wraps a handler that takes the context first into a plain fetch handler, usable as
 * `Deno.serve(handler)`, `export default { fetch: handler }` (Deno, Bun, Cloudflare) or in any
 * router. Extra arguments (Deno's `info`, a Worker's `env`) are passed through.
 */
export function withContext<A extends unknown[]>(
  handler: (ctx: KrepisContext, request: Request, ...rest: A) => Response | Promise<Response>,
  options: FetchContextOptions = {},
): FetchHandler<A> {
  return async (request: Request, ...rest: A): Promise<Response> =>
    await handler(contextFromRequest(request, options), request, ...rest);
}

/** What {@link honoMiddleware} needs of a Hono context (structurally; Hono is not a dependency). */
export interface HonoContextLike {
  readonly req: { readonly raw: Request };
  set(key: "ctx", value: KrepisContext): void;
}

/**
 * Hono middleware: `app.use(honoMiddleware())` makes `c.get("ctx")` the request's context
 * (declare `Variables: { ctx: KrepisContext }` in the app's env type).
 */
export function honoMiddleware(
  options: FetchContextOptions = {},
): (c: HonoContextLike, next: () => Promise<void>) => Promise<void> {
  return async (c: HonoContextLike, next: () => Promise<void>): Promise<void> => {
    c.set("ctx", contextFromRequest(c.req.raw, options));
    await next();
  };
}
