/**
 * What the framework adapters share: reading the request id, tenant and trace from headers.
 *
 * @module
 */

import { type Clock, type ContextSignal, createContext, type KrepisContext } from "./context.ts";
import type { Random } from "./random.ts";
import { parseTraceparent } from "./trace.ts";

/** How an adapter builds a context from an incoming request of type `R`. */
export interface RequestContextOptions<R> {
  /** The header carrying the request id. Default: `x-request-id`; a missing or odd one is replaced by a random UUID. */
  readonly request_id_header?: string;
  /** The header carrying the tenant id. Default: `x-tenant-id`. Only trust it behind a proxy that sets it. */
  readonly tenant_id_header?: string;
  /** Resolves the tenant from the request instead of the header (from the host name, a token, ...). */
  readonly resolve_tenant?: (request: R) => string | undefined;
  /** The tenant when none is found. Default: `"default"`. */
  readonly default_tenant_id?: string;
  /** Default: `false`. */
  readonly is_turbo_mode?: boolean;
  /** A deadline for the request, relative to its arrival. */
  readonly timeout_ms?: number;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Default: crypto randomness. */
  readonly random?: Random;
}

/** Header values longer than this, or with spaces or control characters, are ignored. */
const MAX_ID_LENGTH = 200;
const ID = /^[\x21-\x7e]+$/;

function cleanId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const id = value.trim();
  return id.length > 0 && id.length <= MAX_ID_LENGTH && ID.test(id) ? id : undefined;
}

/** Builds the context of one request. @internal */
export function requestContext<R>(
  request: R,
  header: (name: string) => string | undefined,
  signal: ContextSignal | undefined,
  options: RequestContextOptions<R>,
): KrepisContext {
  const tenant = options.resolve_tenant
    ? options.resolve_tenant(request)
    : cleanId(header(options.tenant_id_header ?? "x-tenant-id"));
  return createContext({
    request_id: cleanId(header(options.request_id_header ?? "x-request-id")),
    tenant_id: tenant ?? options.default_tenant_id ?? "default",
    trace_id: parseTraceparent(header("traceparent"))?.trace_id,
    is_turbo_mode: options.is_turbo_mode,
    signal,
    timeout_ms: options.timeout_ms,
    clock: options.clock,
    random: options.random,
  });
}
