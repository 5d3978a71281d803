/**
 * The Trinity's application-layer ports: command handlers change state and return nothing, query
 * handlers return data (command–query separation).
 *
 * @module
 */

import type { KrepisContext } from "./context.ts";

/** A request to change state. The marker is optional: any value can be a command. */
export interface Command<Type extends string = string> {
  readonly type: Type;
}

/** A request for data. The marker is optional: any value can be a query. */
export interface Query<Type extends string = string> {
  readonly type: Type;
}

/** Handles a command: changes state and returns nothing. */
export interface CommandHandler<C = Command> {
  handle(ctx: KrepisContext, command: C): Promise<void>;
}

/** Handles a query: reads state and returns `R`. */
export interface QueryHandler<Q = Query, R = unknown> {
  handle(ctx: KrepisContext, query: Q): Promise<R>;
}
