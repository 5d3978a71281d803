// Domain layer: pure and deterministic. Time and identity come from the context, never from
// Date.now(), Math.random() or crypto.randomUUID().
import type { KrepisContext } from "@krepis/core";

export interface Order {
  readonly id: string;
  readonly tenant_id: string;
  readonly item: string;
  readonly quantity: number;
  readonly placed_at: number;
}

export function placeOrder(ctx: KrepisContext, item: string, quantity: number): Order {
  if (!Number.isInteger(quantity) || quantity < 1) throw new RangeError(`quantity must be a positive integer, got ${quantity}`);
  return { id: ctx.random.uuid(), tenant_id: ctx.tenant_id, item, quantity, placed_at: ctx.clock.now() };
}
