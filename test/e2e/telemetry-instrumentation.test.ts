import { join } from "node:path";
import { expect, test } from "vitest";
import { run } from "../helpers/exec.js";

// @opentelemetry/instrumentation-grpc patches grpc-js as it loads, so it runs in
// a child process of its own (preloaded as Node teams do it, with the ESM hook).
// It wraps grpc-js's Client, not the channel our engine calls: an SDK call must
// still give exactly one client span tree (ours), and one server span (the
// instrumentation's, which startServer's telemetry does not double).

const root = join(import.meta.dirname, "../..");
const SERVER = 1;
const CLIENT = 2;

interface FinishedSpan {
  name: string;
  kind: number;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

test("instrumentation-grpc registered too: one client span tree per SDK call, the instrumentation's server span under our attempt", async () => {
  const stdout = await run(
    process.execPath,
    ["--import", "./test/fixtures/otel/preload.mjs", "--import", "tsx", "test/fixtures/otel/instrumented-calls.ts"],
    root,
  );
  const { sdk, control, spans } = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
    sdk: string;
    control: string;
    spans: FinishedSpan[];
  };
  // The control (grpc-js's generic client) shows the instrumentation is active: its client and server spans.
  const controlSpans = spans.filter((s) => s.traceId === control);
  expect(
    controlSpans.filter((s) => s.kind === CLIENT && s.scope === "@opentelemetry/instrumentation-grpc"),
  ).toHaveLength(1);

  const trace = spans.filter((s) => s.traceId === sdk);
  const clients = trace.filter((s) => s.kind === CLIENT);
  expect(clients.map((s) => [s.scope, s.name])).toEqual([["balanced-grpc", "helloworld.Greeter/SayHello"]]);
  const parent = trace.find((s) => s.name === "sdk")!;
  expect(clients[0]!.parentSpanId).toBe(parent.spanId);
  const attempts = trace.filter((s) => s.parentSpanId === clients[0]!.spanId);
  expect(attempts.map((s) => s.name)).toEqual(["Attempt.helloworld.Greeter/SayHello"]);
  const servers = trace.filter((s) => s.kind === SERVER);
  expect(servers.map((s) => s.scope)).toEqual(["@opentelemetry/instrumentation-grpc"]);
  expect(servers[0]!.parentSpanId).toBe(attempts[0]!.spanId);
});
