// Infrastructure layer: an in-memory repository that honours cancellation.
import type { KrepisContext } from "@krepis/core";
import type { Order } from "../domain/order.ts";
import type { OrderRepository } from "../application/orders.ts";

export class MemoryOrders implements OrderRepository {
  private readonly orders: Order[] = [];

  async save(ctx: KrepisContext, order: Order): Promise<void> {
    ctx.signal.throwIfAborted();
    await Promise.resolve();
    this.orders.push(order);
  }

  async list(ctx: KrepisContext, tenant_id: string): Promise<readonly Order[]> {
    ctx.signal.throwIfAborted();
    await Promise.resolve();
    return this.orders.filter((order) => order.tenant_id === tenant_id);
  }
}
