// What telemetry costs a client: the SDK (pickFirst(), unary, c=100) with
// `telemetry: false`, with telemetry on and @opentelemetry/api installed but
// no SDK registered (what every user with the API in their tree pays), and
// with a real OpenTelemetry SDK registered (batch span processor and a
// periodic metric reader, both into in-memory exporters: what the SDK does,
// without an exporter's network cost). The SDK is registered globally only
// for its cells and removed after. Interleaved, every other round reversed,
// the heap collected before each cell (--expose-gc), against the Go server on
// half the cores. Speed is reported, never asserted.
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { pickFirst } from "balanced-grpc";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { requireGoServer, startGoServer } from "../harness/go-server.js";
import { median } from "../harness/load.js";
import { table } from "../harness/table.js";
import { measure } from "./measure.js";
import { report } from "./output.js";

const ROUNDS = Number(process.env.ROUNDS ?? 4);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 3);

const binary = await requireGoServer("bench:telemetry");
const server = await startGoServer(binary);
const target = server.address;

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
let meterProvider: MeterProvider | undefined;

/** Registers a real SDK globally, as an application's setup does. */
function registerSdk(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spans, { maxQueueSize: 100_000 })] }),
  );
  meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 1_000 })],
  });
  metrics.setGlobalMeterProvider(meterProvider);
}

async function unregisterSdk(): Promise<void> {
  await meterProvider?.shutdown();
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
  spans.reset();
  metricExporter.reset();
}

const client = (name: string, telemetry: boolean, sdk: boolean) => {
  const greeter = createGreeterClient({ target, strategy: pickFirst(), telemetry });
  return { name, sdk, unary: () => greeter.sayHello({ name: "bench" }), close: () => greeter.close() };
};
const off = client("telemetry: false", false, false);
const clients = [
  off,
  client("on, API without an SDK", true, false),
  client("on, SDK (in-memory exporters)", true, true),
];

const ratios = new Map<string, { calls: number; cpu: number }[]>();
const absolute = new Map<string, number[]>();
try {
  for (const c of clients) await measure(c.unary, { concurrency: 20, durationMs: 500 });
  for (let round = 0; round < ROUNDS; round++) {
    const cells = new Map<string, { callsPerSecond: number; cpuUsPerCall: number }>();
    for (const c of round % 2 === 0 ? clients : [...clients].reverse()) {
      if (c.sdk) registerSdk();
      try {
        cells.set(c.name, await measure(c.unary, { concurrency: 100, durationMs: SECONDS * 1_000 }));
      } finally {
        if (c.sdk) await unregisterSdk();
      }
    }
    const base = cells.get(off.name)!;
    for (const [name, cell] of cells) {
      ratios.set(name, [
        ...(ratios.get(name) ?? []),
        { calls: cell.callsPerSecond / base.callsPerSecond, cpu: cell.cpuUsPerCall / base.cpuUsPerCall },
      ]);
      absolute.set(name, [...(absolute.get(name) ?? []), cell.cpuUsPerCall]);
    }
  }
} finally {
  for (const c of clients) c.close();
  await server.stop();
}

const rows = clients.map((c) => {
  const list = ratios.get(c.name)!;
  return {
    client: c.name,
    calls: median(list.map((r) => r.calls)),
    cpu: median(list.map((r) => r.cpu)),
    cpuUsPerCall: median(absolute.get(c.name)!),
  };
});
report(
  "telemetry",
  `pickFirst() unary c=100 against ${server.kind}, ${ROUNDS} rounds of ${SECONDS} s, medians of per-round ratios\n${table(
    ["client", "calls/s vs off", "CPU/call vs off", "CPU/call µs"],
    rows.map((r) => [r.client, `${r.calls.toFixed(3)}×`, `${r.cpu.toFixed(3)}×`, r.cpuUsPerCall.toFixed(1)]),
  )}`,
  rows,
);
