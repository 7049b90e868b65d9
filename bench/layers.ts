// What grpc-js's own retry layer and channelz cost a client that does not
// use them: the SDK (pickFirst(), unary, c=100) with each turned back on,
// against raw grpc-js, interleaved with every other round reversed, the heap
// collected before each cell (run with --expose-gc, as `npm run
// bench:layers` does), against the Go server on half the cores. Speed is
// reported, never asserted.
import { pickFirst } from "balanced-grpc";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { requireGoServer, startGoServer } from "../harness/go-server.js";
import { median } from "../harness/load.js";
import { table } from "../harness/table.js";
import { rawGrpcJs } from "./clients.js";
import { measure } from "./measure.js";
import { report } from "./output.js";

const ROUNDS = Number(process.env.ROUNDS ?? 4);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 3);

const binary = await requireGoServer("bench:layers");
const server = await startGoServer(binary);
const target = server.address;

const sdk = (name: string, channelOptions: Record<string, number>) => {
  const client = createGreeterClient({ target, strategy: pickFirst(), channelOptions });
  return { name, unary: () => client.sayHello({ name: "bench" }), close: () => client.close() };
};
const raw = rawGrpcJs(target, pickFirst(), "raw grpc-js", { label: "default" });
const clients = [
  { name: raw.name, unary: raw.unary, close: raw.close },
  sdk("SDK, grpc-js retries and channelz on", { "grpc.enable_retries": 1, "grpc.enable_channelz": 1 }),
  sdk("SDK, grpc-js retries on", { "grpc.enable_retries": 1 }),
  sdk("SDK, channelz on", { "grpc.enable_channelz": 1 }),
  sdk("SDK default (both off)", {}),
];
const ratios = new Map<string, { calls: number; cpu: number }[]>();
try {
  for (const c of clients) await measure(c.unary, { concurrency: 20, durationMs: 500 });
  for (let round = 0; round < ROUNDS; round++) {
    const cells = new Map<string, { callsPerSecond: number; cpuUsPerCall: number }>();
    for (const c of round % 2 === 0 ? clients : [...clients].reverse()) {
      cells.set(c.name, await measure(c.unary, { concurrency: 100, durationMs: SECONDS * 1_000 }));
    }
    const base = cells.get(raw.name)!;
    for (const [name, cell] of cells) {
      ratios.set(name, [
        ...(ratios.get(name) ?? []),
        { calls: cell.callsPerSecond / base.callsPerSecond, cpu: cell.cpuUsPerCall / base.cpuUsPerCall },
      ]);
    }
  }
} finally {
  for (const c of clients) c.close();
  await server.stop();
}

const rows = clients.map((c) => {
  const list = ratios.get(c.name)!;
  return { client: c.name, calls: median(list.map((r) => r.calls)), cpu: median(list.map((r) => r.cpu)) };
});
report(
  "layers",
  `pickFirst() unary c=100 against ${server.kind}, ${ROUNDS} rounds of ${SECONDS} s, medians of per-round ratios\n${table(
    ["client", "calls/s vs raw", "CPU/call vs raw"],
    rows.map((r) => [r.client, `${r.calls.toFixed(2)}×`, `${r.cpu.toFixed(2)}×`]),
  )}`,
  rows,
);
