// The Orders service the docs' programs call. consumer.test.ts copies it into
// a fresh project as orders-server.ts, starts it, reads the address it prints
// on its first line, and points the docs' example hosts (orders.internal:50051,
// orders-lb.internal:50051) at it. SIGTERM stops it.
import { service, startServer } from "balanced-grpc";
import { OrderStatus, OrdersDefinition, type OrdersServiceImplementation } from "./generated/shop/orders/v1/orders.js";

const implementation: OrdersServiceImplementation = {
  async getOrder(request) {
    return {
      id: request.id,
      status: OrderStatus.ORDER_STATUS_PLACED,
      createdAt: new Date("2026-01-02T03:04:05Z"),
      address: "1 Main St",
    };
  },
  async *listOrders(request) {
    for (let i = 0; i < Math.min(request.limit, 3); i++)
      yield { id: `o-${i}`, status: OrderStatus.ORDER_STATUS_SHIPPED };
  },
  async importOrders(orders) {
    let imported = 0;
    for await (const _ of orders) imported++;
    return { imported };
  },
  async ping() {
    return {};
  },
};

const server = await startServer({ services: [service(OrdersDefinition, implementation)] });
console.log(server.address);
process.once("SIGTERM", () => void server.shutdown({ timeout: 1_000 }));
