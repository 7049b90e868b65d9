// The Observability part of the consumer test (consumer.test.ts copies it
// into a fresh project as observed.ts, run with the docs' otel.ts, from
// docs/observability.md, preloaded): a server and a client of a service defined by hand, three
// calls inside a span of the application's. The docs' setup exports to
// OTLP (the test's collector); this flushes both, then exits.
import { metrics, trace } from "@opentelemetry/api";
import { createServiceClient, service, startServer } from "balanced-grpc";

const passThrough = (value: Buffer) => value;
const EchoDefinition = {
  echo: {
    path: "/shop.echo.v1.Echo/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
} as const;

const server = await startServer({
  services: [service(EchoDefinition, { echo: async (request: Buffer) => request })],
});
const client = createServiceClient(EchoDefinition, { target: server.address });
await trace.getTracer("shop").startActiveSpan("checkout", async (span) => {
  for (let i = 0; i < 3; i++) await client.echo(Buffer.from(`hello ${i}`));
  span.end();
});
// Exported now rather than at the docs' intervals (10 s, 5 s), through the
// providers the docs' setup registered (their forceFlush, found through the
// API's globals); the client is still open, as its pool's gauges are read at export.
type Flushable = { forceFlush?: () => Promise<void>; getDelegate?: () => Flushable };
const tracerProvider = trace.getTracerProvider() as Flushable;
await (tracerProvider.getDelegate?.() ?? tracerProvider).forceFlush?.();
await (metrics.getMeterProvider() as Flushable).forceFlush?.();
client.close();
await server.shutdown();
console.log("observed");
process.exit(0);
