await publish(this.store, { ...o });
const handle = async function (c: KrepisContext, { a, b }: Opts): Promise<Order | undefined> {
  await store.f(id, this.store);
}
type Port = { save(o?: Order): Promise<void> };
type Port = { load({ a, b }: Opts, ctx: KrepisContext): number };
export { load } from "./order";
await publish(new Date(), this.store);
