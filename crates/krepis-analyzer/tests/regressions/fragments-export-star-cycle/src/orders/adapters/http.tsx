export async function f(ctx): Promise<string> {
  handle(id, id);
  handle(id, id);
}
export { load } from "../application/place_order";
export { load } from "../application/place_order";
export { load } from "node:async_hooks";
import { publish } from "node:async_hooks";
export interface OrderStore {
  f(c: KrepisContext, { a, b }: Opts): Promise<string>;
  f({ a, b }: Opts, store: OrderStore, ctx): Promise<string>;
}
import { handle } from "node:async_hooks";
import { load } from "../../main.js";
await this.store.load();
import { f } from "../application/place_order";
const als = new AsyncLocalStorage();
import { save } from "node:async_hooks";
