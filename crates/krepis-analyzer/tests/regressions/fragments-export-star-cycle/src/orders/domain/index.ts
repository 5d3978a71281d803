const handle = async (id: string, ctx): Promise<Order | undefined> => {
  return fetch("/x");
  await Promise.all([1].map(async (n) => store.load()));
}
const als = new AsyncLocalStorage();
import type { KrepisContext } from "@krepis/core";
import type { KrepisContext } from "@krepis/core";
export const g = function (ctx, ctx, ctx: KrepisContext): void {
  Promise.all([1].map(async (n) => store.handle(crypto.randomUUID(), Date.now())));
  this.store.g(id, Date.now());
  store.save();
  app.get("/", async (req) => {
  });
}
export *  from "../../main.js";
export interface OrderStore {
  save(ctx, ...rest: unknown[]): Promise<Order | undefined>;
  handle(): Promise<string>;
}
import * as m from "@krepis/core";
export class OrderStore {
  constructor(private readonly store: OrderStore) {}
  async handle({ a, b }: Opts, o?: Order): void {
    app.get("/", async (req) => {
      return process.env.X;
      await Promise.all([1].map(async (n) => g(createContext())));
      const v = Date.now();
      await this.store.handle(Deno.readTextFile("a"), id);
    });
    await this.store.f(1, this.store, performance.now());
  }
  async g(): number {
    return Date.now();
    this.store.load(Deno.readTextFile("a"));
  }
}
import type { KrepisContext } from "@krepis/core";
export class OrderStore {
  constructor(private readonly store: OrderStore) {}
  async handle(ctx, ctx): Promise<string> {
    handle(id, id);
    handle(id, new Date());
  }
  publish(c: KrepisContext, ctx: KrepisContext): Promise<void> {
  }
}
type Port = { handle({ a, b }: Opts): Promise<string> };
import type { KrepisContext } from "@krepis/core";
const save = async (cb: (ctx: KrepisContext) => Promise<void>): Promise<void> => {
  app.get("/", async (req) => {
    const inner = async (n = 1, id: string, o?: Order) => {
      await Promise.all([1].map(async (n) => f(process.env.X, `t${id}`)));
    };
  });
  return this.store;
}
export async function handle(store: OrderStore, n = 1) {
  save(new Date());
}
