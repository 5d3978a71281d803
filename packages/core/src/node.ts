/**
 * Contexts for Node's `http` servers and what is built on them: Express, Fastify
 * (`request.raw`, `reply.raw`), NestJS. Only structural types: no dependency on Node's types or on
 * any framework.
 *
 * ```ts
 * import { krepisMiddleware } from "@krepis/core/node";
 *
 * app.use(krepisMiddleware()); // then res.locals.ctx (and req.ctx) in every handler
 * ```
 *
 * @module
 */

import type { KrepisContext } from "./context.ts";
import { requestContext, type RequestContextOptions } from "./request.ts";

export type { RequestContextOptions } from "./request.ts";

/** What is read of an `http.IncomingMessage`. */
export interface IncomingMessageLike {
  readonly headers: { readonly [name: string]: string | readonly string[] | undefined };
  /** Whether the whole request body has arrived. */
  readonly complete?: boolean;
  once(event: "close" | "aborted", listener: () => void): unknown;
}

/** What is read of an `http.ServerResponse`. */
export interface ServerResponseLike {
  /** Whether the whole response has been handed to the operating system. */
  readonly writableFinished?: boolean;
  readonly destroyed?: boolean;
  once(event: "close", listener: () => void): unknown;
}

/** Options of {@link contextFromIncomingMessage}. */
export type NodeContextOptions = RequestContextOptions<IncomingMessageLike>;

function clientGone(): DOMException {
  return new DOMException("The client closed the connection before the response was sent", "AbortError");
}

/**
 * The context of a Node request, read from `req.headers` like `contextFromRequest` reads a
 * `Request`. Its signal aborts when the connection closes before the response has finished
 * (`res` closing unfinished); without `res`, when the request is aborted before it was complete.
 * Pass `res`: a client leaving after sending a whole request is only seen through it.
 */
export function contextFromIncomingMessage(
  req: IncomingMessageLike,
  res?: ServerResponseLike,
  options: NodeContextOptions = {},
): KrepisContext {
  const controller = new AbortController();
  const abort = (): void => {
    if (!controller.signal.aborted) controller.abort(clientGone());
  };
  if (res) {
    if (res.destroyed === true && res.writableFinished !== true) abort();
    else res.once("close", () => {
      if (res.writableFinished !== true) abort();
    });
  } else {
    req.once("aborted", abort);
    req.once("close", () => {
      if (req.complete !== true) abort();
    });
  }
  const header = (name: string): string | undefined => {
    const value = req.headers[name.toLowerCase()];
    if (value === undefined || typeof value === "string") return value;
    // Repeated headers: the first request id or tenant; a repeated traceparent is invalid.
    return name.toLowerCase() === "traceparent" && value.length > 1 ? undefined : value[0];
  };
  return requestContext(req, header, controller.signal, options);
}

/** An Express-style request the middleware puts the context on. */
export interface MiddlewareRequest extends IncomingMessageLike {
  ctx?: KrepisContext;
}

/** An Express-style response the middleware puts the context on (`res.locals.ctx`). */
export interface MiddlewareResponse extends ServerResponseLike {
  locals?: Record<string, unknown>;
}

/**
 * Express / Connect / NestJS middleware: sets `req.ctx` and `res.locals.ctx` to the request's
 * context (see {@link contextFromIncomingMessage}) and calls `next()`.
 */
export function krepisMiddleware(
  options: NodeContextOptions = {},
): (req: MiddlewareRequest, res: MiddlewareResponse, next: (error?: unknown) => void) => void {
  return (req: MiddlewareRequest, res: MiddlewareResponse, next: (error?: unknown) => void): void => {
    let ctx: KrepisContext;
    try {
      ctx = contextFromIncomingMessage(req, res, options);
    } catch (error) {
      next(error);
      return;
    }
    req.ctx = ctx;
    if (res.locals) res.locals.ctx = ctx;
    else res.locals = { ctx };
    next();
  };
}
