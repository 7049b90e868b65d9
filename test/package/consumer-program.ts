// The program of the consumer test (consumer.test.ts copies it into a fresh
// project as main.ts): a team's own service, served with startServer and
// called through its generated client. Prints one JSON line of what it saw.
import { credentials as projectCredentials } from "@grpc/grpc-js";
import {
  type CallContext,
  ClientError,
  type ClientMiddleware,
  ServerError,
  Status,
  service,
  startServer,
} from "balanced-grpc";
import {
  type DeepPartial,
  type Order,
  OrderStatus,
  OrdersDefinition,
  type OrdersServiceImplementation,
} from "./generated/shop/orders/v1/orders.js";
import { createOrdersClient } from "./generated/shop/orders/v1/orders_sdk.js";

const orders: Order[] = [
  {
    id: "o-1",
    status: OrderStatus.ORDER_STATUS_PLACED,
    createdAt: new Date("2026-01-02T03:04:05Z"),
    lines: [
      { sku: "A-1", quantity: 2, price: { currencyCode: "EUR", units: 3, nanos: 0 } },
      { sku: "B-2", quantity: 1, price: { currencyCode: "EUR", units: 10, nanos: 500_000_000 } },
    ],
    address: "1 Main St",
    pickupPoint: undefined,
    labels: { gift: "yes" },
  },
  {
    id: "o-2",
    status: OrderStatus.ORDER_STATUS_SHIPPED,
    createdAt: undefined,
    lines: [],
    address: undefined,
    pickupPoint: "P-7",
    labels: {},
  },
  {
    id: "o-3",
    status: OrderStatus.ORDER_STATUS_UNSPECIFIED,
    createdAt: undefined,
    lines: [],
    address: undefined,
    pickupPoint: undefined,
    labels: {},
  },
];

let getOrderAttempts = 0;
let failNextGetOrder = false;
/** Resolves to whether the server's own signal aborted (its deadline passed) before 2 s. */
let serverDeadline: Promise<boolean> | undefined;
const implementation: OrdersServiceImplementation = {
  async getOrder(request, context: CallContext) {
    getOrderAttempts++;
    if (request.id === "slow") {
      serverDeadline = new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), 2_000);
        context.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      await serverDeadline;
      throw new ServerError(Status.CANCELLED, "gave up");
    }
    if (failNextGetOrder) {
      failNextGetOrder = false;
      throw new ServerError(Status.UNAVAILABLE, "try again");
    }
    const order = orders.find((o) => o.id === request.id);
    if (!order) throw new ServerError(Status.NOT_FOUND, `no order ${request.id}`);
    return order;
  },
  async *listOrders(request) {
    yield* orders.slice(0, request.limit || orders.length);
  },
  async importOrders(incoming) {
    let imported = 0;
    for await (const _ of incoming) imported++;
    return { imported };
  },
  async ping() {
    return {};
  },
};

const server = await startServer({ services: [service(OrdersDefinition, implementation)] });

let middlewareCalls = 0;
const counting: ClientMiddleware = async function* counting(call, options) {
  middlewareCalls++;
  return yield* call.next(call.request, options);
};

// Credentials made with the project's own @grpc/grpc-js: one copy, so they are accepted.
const client = createOrdersClient({
  target: server.address,
  strategy: "pool",
  size: 4,
  middleware: [counting],
  credentials: projectCredentials.createInsecure(),
});

const order = await client.getOrder({ id: "o-1" }, { deadline: 5_000 });

let notFound: unknown;
try {
  await client.getOrder({ id: "nope" });
} catch (error) {
  notFound = error;
}

getOrderAttempts = 0;
middlewareCalls = 0;
failNextGetOrder = true;
let retriesSeen = 0;
await client.getOrder({ id: "o-2" }, { onRetryableError: () => void retriesSeen++ });
const retried = { attemptsOnServer: getOrderAttempts, retriesSeen, middlewareCalls };

let listed = 0;
for await (const _ of client.listOrders({ limit: 3 })) listed++;

async function* toImport(): AsyncIterable<DeepPartial<Order>> {
  for (let i = 0; i < 4; i++) yield { id: `new-${i}`, status: OrderStatus.ORDER_STATUS_PLACED };
}
const { imported } = await client.importOrders(toImport());
await client.ping({});

// A short deadline reaches the server (grpc-timeout), which gives up too.
const late = await client.getOrder({ id: "slow" }, { deadline: 200, retry: false }).catch((e: unknown) => e);
const deadlineSentToServer =
  late instanceof ClientError && late.code === Status.DEADLINE_EXCEEDED && (await serverDeadline) === true;

client.close();
await server.shutdown();

console.log(
  JSON.stringify({
    order: {
      id: order.id,
      status: OrderStatus[order.status],
      createdAt: order.createdAt?.toISOString(),
      lines: order.lines.length,
      address: order.address,
      labels: order.labels,
    },
    notFound: {
      isClientError: notFound instanceof ClientError,
      code: notFound instanceof ClientError ? Status[notFound.code] : String(notFound),
    },
    retried,
    listed,
    imported,
    ping: true,
    projectCredentials: true,
    deadlineSentToServer,
  }),
);
