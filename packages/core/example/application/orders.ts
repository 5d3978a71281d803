// Application layer: a command handler returns nothing, a query handler returns data.
import type { Command, CommandHandler, KrepisContext, Query, QueryHandler } from "@krepis/core";
import { type Order, placeOrder } from "../domain/order.ts";

export interface OrderRepository {
  save(ctx: KrepisContext, order: Order): Promise<void>;
  list(ctx: KrepisContext, tenant_id: string): Promise<readonly Order[]>;
}

export interface PlaceOrder extends Command<"place-order"> {
  readonly item: string;
  readonly quantity: number;
}

export class PlaceOrderHandler implements CommandHandler<PlaceOrder> {
  constructor(private readonly orders: OrderRepository) {}

  async handle(ctx: KrepisContext, command: PlaceOrder): Promise<void> {
    ctx.signal.throwIfAborted();
    await this.orders.save(ctx, placeOrder(ctx, command.item, command.quantity));
  }
}

export type ListOrders = Query<"list-orders">;

export class ListOrdersHandler implements QueryHandler<ListOrders, readonly Order[]> {
  constructor(private readonly orders: OrderRepository) {}

  async handle(ctx: KrepisContext, _query: ListOrders): Promise<readonly Order[]> {
    return await this.orders.list(ctx, ctx.tenant_id);
  }
}
