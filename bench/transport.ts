// The SDK's own HTTP/2 transport (transport: "http2") against grpc-js, side
// by side: raw grpc-js's generic client, the SDK on grpc-js, the SDK on the
// http2 transport, and a bare node:http2 unary loop (the floor: framing by
// hand, no engine, no balancer), unary at c=100 for pickFirst(),
// roundRobin() and pool(4), plus ListFeatures (server streaming) for
// pickFirst(). Interleaved rounds (A B C D, then D C B A), against the Go
// server on half the cores (GOMAXPROCS=1 on 2 cores).
//
// Per cell: calls/s; client CPU µs per call (process.cpuUsage); KB allocated
// per call, as young-generation collections (PerformanceObserver 'gc'
// entries of kind minor) times the semi-space size, which `npm run
// bench:transport` pins at 16 MB (--min/--max-semi-space-size) so that the
// product is the bytes allocated; scavenge ms per 1,000 calls; p99.
//
// `--quick`: 2 rounds of 2 s (about a minute). ONLY=<client name part> and
// WORKLOAD=<workload name part> run only those (for `node --cpu-prof`).
import { connect, constants as h2 } from "node:http2";
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";
import { pickFirst, pool, roundRobin, type Strategy } from "balanced-grpc";
import { HelloReply, HelloRequest } from "../generated/helloworld/helloworld.js";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { createRouteGuideClient } from "../generated/routeguide/route_guide_sdk.js";
import { requireGoServer, startGoServer } from "../harness/go-server.js";
import { median } from "../harness/load.js";
import { table } from "../harness/table.js";
import { rawGrpcJs } from "./clients.js";
import { measure } from "./measure.js";
import { report } from "./output.js";

const quick = process.argv.includes("--quick");
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? (quick ? 2 : 3));
const ONLY = process.env.ONLY;
const WORKLOAD = process.env.WORKLOAD;
const runs = (workload: string) => !WORKLOAD || workload.includes(WORKLOAD);
const CONCURRENCY = 100;

interface Client {
  name: string;
  call(): Promise<unknown>;
  close(): void;
}

/** Young-generation collections seen, with when they started and how long they took. */
const scavenges: { at: number; ms: number }[] = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
    if (kind === 1) scavenges.push({ at: entry.startTime, ms: entry.duration });
  }
});
observer.observe({ entryTypes: ["gc"] });
const semiSpaceBytes = getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;

/** A bare unary call on node:http2: the request framed by hand, the reply read from the last DATA. */
function bareHttp2(address: string, sessions: number): Client {
  const list = Array.from({ length: sessions }, () => connect(`http://${address}`));
  const body = Buffer.from(HelloRequest.encode({ name: "bench" }).finish());
  const framed = Buffer.alloc(body.length + 5);
  framed.writeUInt32BE(body.length, 1);
  body.copy(framed, 5);
  const headers = {
    [h2.HTTP2_HEADER_METHOD]: "POST",
    [h2.HTTP2_HEADER_PATH]: "/helloworld.Greeter/SayHello",
    "content-type": "application/grpc",
    te: "trailers",
  };
  let next = 0;
  return {
    name: "bare node:http2 loop",
    call: () =>
      new Promise((resolve, reject) => {
        const stream = list[next++ % sessions]!.request(headers);
        let data: Buffer | undefined;
        let ok = false;
        stream.on("data", (chunk: Buffer) => {
          data = data === undefined ? chunk : Buffer.concat([data, chunk]);
        });
        stream.on("trailers", (trailers) => {
          ok = trailers["grpc-status"] === "0";
        });
        stream.on("close", () => {
          if (ok && data) resolve(HelloReply.decode(data.subarray(5)));
          else reject(new Error(`bare call failed (rst ${stream.rstCode})`));
        });
        stream.end(framed);
      }),
    close: () => {
      for (const session of list) session.close();
    },
  };
}

function sdkClient(target: string, strategy: Strategy, transport: "grpc-js" | "http2"): Client {
  const client = createGreeterClient({ target, strategy, transport });
  return {
    name: `SDK on ${transport}`,
    call: () => client.sayHello({ name: "bench" }),
    close: () => void client.close(),
  };
}

function streamingClients(target: string): Client[] {
  const rectangle = { lo: { latitude: 0, longitude: -800_000_000 }, hi: { latitude: 500_000_000, longitude: 0 } };
  const raw = rawGrpcJs(target, pickFirst(), "raw grpc-js", { label: "default" });
  const sdk = (transport: "grpc-js" | "http2"): Client => {
    const client = createRouteGuideClient({ target, transport });
    return {
      name: `SDK on ${transport}`,
      call: async () => {
        let messages = 0;
        for await (const _ of client.listFeatures(rectangle)) messages++;
        return messages;
      },
      close: () => void client.close(),
    };
  };
  return [{ name: raw.name, call: raw.serverStream, close: raw.close }, sdk("grpc-js"), sdk("http2")];
}

interface Cell {
  callsPerSecond: number;
  messagesPerSecond: number;
  cpuUsPerCall: number;
  kbPerCall: number;
  scavengeMsPer1k: number;
  p99Ms: number;
  failures: number;
}

async function cell(client: Client, concurrency: number): Promise<Cell> {
  (globalThis as { gc?: () => void }).gc?.();
  const from = performance.now();
  const measured = await measure(client.call, { concurrency, durationMs: SECONDS * 1_000 });
  const to = performance.now();
  await new Promise((resolve) => setImmediate(resolve)); // the observer's entries of this cell arrive
  const seen = scavenges.filter((s) => s.at >= from && s.at <= to);
  const calls = measured.callsPerSecond * ((to - from) / 1_000);
  return {
    callsPerSecond: measured.callsPerSecond,
    messagesPerSecond: measured.messagesPerSecond,
    cpuUsPerCall: measured.cpuUsPerCall,
    kbPerCall: (seen.length * semiSpaceBytes) / 1024 / Math.max(1, calls),
    scavengeMsPer1k: (seen.reduce((sum, s) => sum + s.ms, 0) / Math.max(1, calls)) * 1_000,
    p99Ms: measured.p99Ms,
    failures: measured.failures,
  };
}

/** Runs the clients in interleaved rounds; returns each client's cells. */
async function rounds(clients: Client[], concurrency: number): Promise<Map<string, Cell[]>> {
  const cells = new Map<string, Cell[]>(clients.map((c) => [c.name, []]));
  for (const c of clients) await measure(c.call, { concurrency: 20, durationMs: 500 }); // connect, warm up
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of round % 2 === 0 ? clients : [...clients].reverse()) {
      cells.get(c.name)!.push(await cell(c, concurrency));
    }
  }
  return cells;
}

const binary = await requireGoServer("bench:transport");
const server = await startGoServer(binary, ["-features", "1000"]);
const target = server.address;
const loadBefore = (await import("node:os")).loadavg();

interface Row {
  workload: string;
  client: string;
  callsPerSecond: number;
  callsVsRaw: number;
  cpuUsPerCall: number;
  cpuVsRaw: number;
  kbPerCall: number;
  scavengeMsPer1k: number;
  p99Ms: number;
  failures: number;
}
const rows: Row[] = [];

function summarize(workload: string, cells: Map<string, Cell[]>, streaming = false): void {
  const raw = cells.get("raw grpc-js");
  for (const [client, list] of cells) {
    if (list.length === 0) continue;
    const rate = (c: Cell) => (streaming ? c.messagesPerSecond : c.callsPerSecond);
    // Streams are reported per message: CPU and bytes of a stream over the messages it moved.
    const per = (c: Cell) => (streaming ? c.callsPerSecond / Math.max(1, c.messagesPerSecond) : 1);
    // Ratios per round (each against raw grpc-js in the same round), then the median.
    const ratio = (f: (c: Cell) => number) =>
      raw && raw.length === list.length ? median(list.map((c, i) => f(c) / f(raw[i]!))) : Number.NaN;
    rows.push({
      workload,
      client,
      callsPerSecond: median(list.map(rate)),
      callsVsRaw: ratio(rate),
      cpuUsPerCall: median(list.map((c) => c.cpuUsPerCall * per(c))),
      cpuVsRaw: ratio((c) => c.cpuUsPerCall * per(c)),
      kbPerCall: median(list.map((c) => c.kbPerCall * per(c))),
      scavengeMsPer1k: median(list.map((c) => c.scavengeMsPer1k)),
      p99Ms: median(list.map((c) => c.p99Ms)),
      failures: list.reduce((n, c) => n + c.failures, 0),
    });
  }
}

try {
  const strategies: [string, Strategy, number][] = [
    ["pickFirst()", pickFirst(), 1],
    ["roundRobin()", roundRobin(), 1],
    ["pool(4)", pool(4), 4],
  ];
  for (const [name, strategy, sessions] of strategies) {
    if (!runs(`unary ${name}`)) continue;
    const raw = rawGrpcJs(target, strategy, "raw grpc-js", { label: "default" });
    const clients: Client[] = [
      { name: raw.name, call: raw.unary, close: raw.close },
      sdkClient(target, strategy, "grpc-js"),
      sdkClient(target, strategy, "http2"),
      bareHttp2(target, sessions),
    ].filter((c) => !ONLY || c.name.includes(ONLY));
    try {
      summarize(`unary ${name}`, await rounds(clients, CONCURRENCY));
    } finally {
      for (const c of clients) c.close();
    }
  }
  const streams = runs("ListFeatures") ? streamingClients(target).filter((c) => !ONLY || c.name.includes(ONLY)) : [];
  try {
    if (streams.length > 0) summarize("ListFeatures pickFirst() c=10", await rounds(streams, 10), true);
  } finally {
    for (const c of streams) c.close();
  }
} finally {
  observer.disconnect();
  await server.stop();
}

const fixed = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "–");
const times = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "–");
report(
  "transport",
  `Unary c=${CONCURRENCY} and ListFeatures (1,000 messages per stream) against ${server.kind}, ${ROUNDS} interleaved rounds of ${SECONDS} s, medians; ` +
    `×raw is the median of per-round ratios to raw grpc-js; ListFeatures' CPU and KB are per message. KB/call = minor GCs × ${semiSpaceBytes / 1024 / 1024} MB semi-space / calls. ` +
    `Load average before: ${loadBefore.map((l) => l.toFixed(2)).join(", ")}\n${table(
      [
        "workload",
        "client",
        "calls/s (msgs/s)",
        "×raw",
        "CPU µs/call",
        "×raw",
        "KB/call",
        "scavenge ms/1k",
        "p99 ms",
        "failed",
      ],
      rows.map((r) => [
        r.workload,
        r.client,
        fixed(r.callsPerSecond),
        times(r.callsVsRaw),
        fixed(r.cpuUsPerCall, 1),
        times(r.cpuVsRaw),
        fixed(r.kbPerCall, 1),
        fixed(r.scavengeMsPer1k, 1),
        fixed(r.p99Ms, 1),
        String(r.failures),
      ]),
    )}`,
  { rounds: ROUNDS, seconds: SECONDS, semiSpaceBytes, loadBefore, rows },
);
