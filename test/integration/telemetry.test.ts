import { context, metrics, propagation, type Span, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import {
  type CallContext,
  type RunningServer,
  roundRobin,
  type ServerMiddleware,
  type ServerMiddlewareCall,
  startServer,
} from "balanced-grpc";
import { openTelemetryServerMiddleware } from "nice-grpc-opentelemetry";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createGreeterClient, type GreeterSdkClient } from "../../generated/helloworld/helloworld_sdk.js";
import { type InProcessBackends, startBackends } from "../../harness/backend-group.js";
import { greeterService } from "../../harness/reference/greeter.js";

// Traces and metrics from the call engine and the pool, with the real
// OpenTelemetry SDK (in-memory exporters) and real servers. This file's
// worker registers the SDK globally, as an application does at start.

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(tracerProvider);
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));

const tracer = trace.getTracer("test");
let backends: InProcessBackends;
const clients: GreeterSdkClient[] = [];
const servers: RunningServer[] = [];

beforeAll(async () => {
  backends = await startBackends(2);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.shutdown({ timeout: 100 })));
  await backends.shutdown();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const backend of backends.list) backend.knobs.failEvery = 0;
  spans.reset();
});

function client(target: string, options: object = {}): GreeterSdkClient {
  const made = createGreeterClient({ target, strategy: roundRobin(), ...options });
  clients.push(made);
  return made;
}

/** Runs `work` inside a parent span, as application code traced by OpenTelemetry does. */
async function inParentSpan<T>(work: () => Promise<T>): Promise<{ parent: Span; result: T }> {
  return tracer.startActiveSpan("parent", async (parent) => {
    try {
      return { parent, result: await work() };
    } finally {
      parent.end();
    }
  });
}

const finished = () => spans.getFinishedSpans();
const byName = (name: string) => finished().filter((s) => s.name === name);
const childrenOf = (span: ReadableSpan) =>
  finished().filter((s) => s.parentSpanContext?.spanId === span.spanContext().spanId);
/** A data point as the tests read it: attributes and a number or a histogram. */
type Point = { attributes: Record<string, unknown>; value: unknown };
const CALL = "helloworld.Greeter/SayHello";
const ATTEMPT = `Attempt.${CALL}`;

/** Records each call's `traceparent` header. */
function recordTraceparent(seen: (string | undefined)[]): ServerMiddleware {
  return async function* record<Request, Response>(call: ServerMiddlewareCall<Request, Response>, ctx: CallContext) {
    seen.push(ctx.metadata.get("traceparent") as string | undefined);
    return yield* call.next(call.request, ctx);
  };
}

describe("traces", () => {
  test("a call inside a parent span: one CLIENT span, its child, named and attributed by the RPC conventions; one attempt span", async () => {
    const [backend] = backends.list;
    const greeter = client(backend!.address);
    const { parent } = await inParentSpan(() => greeter.sayHello({ name: "traced" }));

    const calls = finished().filter((s) => s.kind === SpanKind.CLIENT);
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.name).toBe(CALL);
    expect(call.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(call.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(call.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.service": "helloworld.Greeter",
      "rpc.method": "SayHello",
      "rpc.grpc.status_code": 0,
      "server.address": backend!.host,
      "server.port": backend!.port,
    });
    const attempts = childrenOf(call);
    expect(attempts.map((a) => a.name)).toEqual([ATTEMPT]);
    expect(attempts[0]!.attributes).toMatchObject({
      "balanced_grpc.attempt.kind": "first",
      "grpc.previous_rpc_attempts": 0,
      "grpc.transparent_retry": false,
      "network.peer.address": backend!.host,
      "network.peer.port": backend!.port,
      "rpc.grpc.status_code": 0,
      "balanced_grpc.messages.sent": 1,
      "balanced_grpc.messages.received": 1,
    });
  });

  test("a call retried onto the second backend: one call span, attempts on different backends, the failed one marked", async () => {
    const failing = backends.list[0]!;
    failing.knobs.failEvery = 1;
    const greeter = client(backends.target, { failureAccrual: false });
    // Round robin sends every other first attempt to the failing backend: its calls retry on the other.
    for (let i = 0; i < 4; i++) await inParentSpan(() => greeter.sayHello({ name: `retried ${i}` }));

    const calls = byName(CALL).filter((s) => s.kind === SpanKind.CLIENT);
    expect(calls).toHaveLength(4);
    const retried = calls.filter((call) => childrenOf(call).length > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const call of retried) {
      expect(call.attributes["rpc.grpc.status_code"]).toBe(0);
      const attempts = childrenOf(call).sort(
        (a, b) =>
          Number(a.attributes["grpc.previous_rpc_attempts"]) - Number(b.attributes["grpc.previous_rpc_attempts"]),
      );
      expect(attempts.map((a) => a.attributes["balanced_grpc.attempt.kind"])).toEqual(["first", "retry"]);
      expect(attempts.map((a) => a.attributes["rpc.grpc.status_code"])).toEqual([14, 0]);
      expect(attempts[0]!.attributes["network.peer.address"]).toBe(failing.host);
      expect(attempts[1]!.attributes["network.peer.address"]).toBe(backends.list[1]!.host);
    }
  });

  test("the server receives traceparent with the caller's trace id, and its span joins the trace under the attempt", async () => {
    const seen: (string | undefined)[] = [];
    const server = await startServer({ services: [greeterService()], middleware: [recordTraceparent(seen)] });
    servers.push(server);
    const greeter = client(server.address);
    const { parent } = await inParentSpan(() => greeter.sayHello({ name: "propagated" }));

    const traceId = parent.spanContext().traceId;
    const [attempt] = byName(ATTEMPT);
    expect(seen).toEqual([`00-${traceId}-${attempt!.spanContext().spanId}-01`]);
    // The SDK's own server span (startServer's telemetry), a child of the attempt.
    const serverSpans = finished().filter((s) => s.kind === SpanKind.SERVER);
    expect(serverSpans).toHaveLength(1);
    expect(serverSpans[0]!.spanContext().traceId).toBe(traceId);
    expect(serverSpans[0]!.parentSpanContext?.spanId).toBe(attempt!.spanContext().spanId);
    expect(serverSpans[0]!.name).toBe(CALL);
  });

  test("nice-grpc-opentelemetry's server middleware (startServer telemetry off) joins the trace too", async () => {
    const server = await startServer({
      services: [greeterService()],
      telemetry: false,
      middleware: [openTelemetryServerMiddleware()],
    });
    servers.push(server);
    const greeter = client(server.address);
    const { parent } = await inParentSpan(() => greeter.sayHello({ name: "joined" }));
    const serverSpans = finished().filter((s) => s.kind === SpanKind.SERVER);
    expect(serverSpans).toHaveLength(1);
    expect(serverSpans[0]!.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(serverSpans[0]!.parentSpanContext?.spanId).toBe(byName(ATTEMPT)[0]!.spanContext().spanId);
  });

  test("telemetry: false: no span, no traceparent", async () => {
    const seen: (string | undefined)[] = [];
    const server = await startServer({
      services: [greeterService()],
      telemetry: false,
      middleware: [recordTraceparent(seen)],
    });
    servers.push(server);
    const greeter = client(server.address, { telemetry: false });
    await inParentSpan(() => greeter.sayHello({ name: "off" }));
    expect(finished().map((s) => s.name)).toEqual(["parent"]);
    expect(seen).toEqual([undefined]);
  });
});

describe("metrics", () => {
  test("gRFC A66 client and server instruments, retry instruments and the pool's, with their attributes", async () => {
    const failing = backends.list[0]!;
    failing.knobs.failEvery = 1;
    // The addresses in another order: a target (grpc.target) of this test's own, as metrics are cumulative.
    const target = `ipv4:${[...backends.addresses].reverse().join(",")}`;
    const greeter = client(target, { failureAccrual: false });
    for (let i = 0; i < 6; i++) await greeter.sayHello({ name: `measured ${i}` });

    await reader.forceFlush();
    const exported = metricExporter.getMetrics().at(-1)!;
    const all = exported.scopeMetrics.filter((s) => s.scope.name === "balanced-grpc").flatMap((s) => s.metrics);
    const named = (name: string) =>
      all.filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as Point[]);
    const ofTarget = (name: string) =>
      named(name).filter((p) => p.attributes["grpc.target"] === target) as {
        attributes: Record<string, unknown>;
        value: unknown;
      }[];
    const method = "helloworld.Greeter/SayHello";

    const started = ofTarget("grpc.client.attempt.started");
    expect(started).toHaveLength(1);
    expect(started[0]!.attributes).toEqual({ "grpc.method": method, "grpc.target": target });
    const attempts = started[0]!.value as number;
    expect(attempts).toBeGreaterThan(6); // some calls were retried

    const callDurations = ofTarget("grpc.client.call.duration");
    expect(callDurations.map((p) => p.attributes)).toEqual([
      { "grpc.method": method, "grpc.target": target, "grpc.status": "OK" },
    ]);
    expect((callDurations[0]!.value as { count: number }).count).toBe(6);
    const attemptStatuses = ofTarget("grpc.client.attempt.duration").map((p) => p.attributes["grpc.status"]);
    expect(attemptStatuses.sort()).toEqual(["OK", "UNAVAILABLE"]);
    for (const name of [
      "grpc.client.attempt.sent_total_compressed_message_size",
      "grpc.client.attempt.rcvd_total_compressed_message_size",
    ]) {
      expect(ofTarget(name).length, name).toBe(2);
    }
    const retries = ofTarget("grpc.client.call.retries");
    expect((retries[0]!.value as { sum: number }).sum).toBe(attempts - 6);
    expect(ofTarget("grpc.client.call.retry_delay")).toHaveLength(1);

    // The pool: two connections serving, one per backend, READY.
    const connections = ofTarget("balanced_grpc.connections");
    expect(
      connections
        .map((p) => [
          p.attributes["balanced_grpc.backend"],
          p.attributes["balanced_grpc.connection.state"],
          p.attributes["balanced_grpc.connection.role"],
          p.value,
        ])
        .sort(),
    ).toEqual(backends.addresses.map((address) => [address, "READY", "serving", 1]).sort());
    expect(ofTarget("balanced_grpc.calls_in_flight").map((p) => p.value)).toEqual([0, 0]);
    expect(ofTarget("balanced_grpc.pool.size").map((p) => p.value)).toEqual([1, 1]);
    // Each connection's health: its server said SERVING on its Watch.
    const health = ofTarget("balanced_grpc.connections.health").map((p) => [
      p.attributes["balanced_grpc.backend"],
      p.attributes["balanced_grpc.connection.healthy"],
      p.attributes["balanced_grpc.connection.health"],
      p.value,
    ]);
    expect(health.sort()).toEqual(backends.addresses.map((address) => [address, true, "serving", 1]).sort());

    // The servers' side (startServer's telemetry, in this process).
    const serverStarted = named("grpc.server.call.started").find((p) => p.attributes["grpc.method"] === method);
    expect(serverStarted!.value).toBeGreaterThanOrEqual(attempts);
    const serverStatuses = named("grpc.server.call.duration")
      .filter((p) => p.attributes["grpc.method"] === method)
      .map((p) => p.attributes["grpc.status"]);
    expect(serverStatuses).toEqual(expect.arrayContaining(["OK", "UNAVAILABLE"]));
  });

  test("failure accrual's ejections are counted per backend", async () => {
    const failing = backends.list[0]!;
    failing.knobs.failEvery = 1;
    const greeter = client(backends.target, {
      failureAccrual: { consecutiveFailures: 1, baseEjectionMs: 60_000, maxEjectionMs: 60_000 },
    });
    for (let i = 0; i < 4; i++) await greeter.sayHello({ name: `ejected ${i}` });
    await reader.forceFlush();
    const exported = metricExporter.getMetrics().at(-1)!;
    const ejections = exported.scopeMetrics
      .flatMap((s) => s.metrics)
      .filter((m) => m.descriptor.name === "balanced_grpc.ejections")
      .flatMap((m) => m.dataPoints as Point[])
      .filter((p) => p.attributes["grpc.target"] === backends.target);
    expect(ejections.map((p) => [p.attributes["balanced_grpc.backend"], p.value])).toEqual([[failing.address, 1]]);
  });
});
