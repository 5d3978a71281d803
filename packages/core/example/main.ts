// The entry point, in the `Deno.serve` style: `deno serve example/main.ts` serves the default
// export; `Deno.serve(app.fetch)`, Bun and Cloudflare Workers take the same shape.
import { type KrepisContext, withTimeout } from "@krepis/core";
import { type FetchHandler, withContext } from "@krepis/core/fetch";
import { ListOrdersHandler, type OrderRepository, PlaceOrderHandler } from "./application/orders.ts";
import { MemoryOrders } from "./infrastructure/memory_orders.ts";

export function createApp(orders: OrderRepository = new MemoryOrders()): { fetch: FetchHandler } {
  const place = new PlaceOrderHandler(orders);
  const list = new ListOrdersHandler(orders);

  async function route(ctx: KrepisContext, request: Request): Promise<Response> {
    if (request.method === "POST") {
      const body = (await request.json()) as { item: string; quantity: number };
      await place.handle(ctx, { type: "place-order", item: body.item, quantity: body.quantity });
      return new Response(null, { status: 204 });
    }
    return Response.json(await list.handle(ctx, { type: "list-orders" }));
  }

  return {
    fetch: withContext(async (ctx, request) => {
      // Every request gets two seconds; the deadline timer is released when the work is done.
      const scope = withTimeout(ctx, 2_000);
      try {
        return await route(scope.ctx, request);
      } finally {
        scope.cancel();
      }
    }),
  };
}

export default createApp();
