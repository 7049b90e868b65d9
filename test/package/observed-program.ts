// The Observability part of the consumer test (consumer.test.ts copies it
// into a fresh project as observed.ts, run with the docs' otel.ts, from
// docs/observability.md, preloaded): a server and a client of a service defined by hand, three
// calls inside a span of the application's. The docs' setup exports to
// OTLP (the test's collector); this waits for the batch span processor and
// the metric reader's interval, then exits.
import { trace } from "@opentelemetry/api";
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
// The docs' reader exports every 10 s, the batch span processor within 5 s;
// the client stays open meanwhile, as its pool's gauges are read at export.
await new Promise((resolve) => setTimeout(resolve, 11_000));
client.close();
await server.shutdown();
console.log("observed");
process.exit(0);
