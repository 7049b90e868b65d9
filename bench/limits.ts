// Servers that limit streams per connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS),
// the situations of issue 19, against grpc-go servers in other processes:
// 1. limit 100, 200 ms handlers, 600 calls in flight over 3 backends;
// 2. limit 10, 50 ms handlers, 150 in flight over 3 backends;
//    (1 and 2: calls/s against the ideal 3,000, interleaved A B A B …, medians)
// 3. one server, limit 100: 300 calls of 2 s started at once, when the last
//    ends, and the pool's size over time until it has shrunk back.
// Speed is reported, never asserted: a table, then one JSON line.
import { type ClientOptions, pickFirst, pool, roundRobin, type Strategy } from "balanced-grpc";
import { createGreeterClient, type GreeterSdkClient } from "../generated/helloworld/helloworld_sdk.js";
import { type BenchServer, requireGoServer, startGoServer } from "../harness/go-server.js";
import { median } from "../harness/load.js";
import { table } from "../harness/table.js";
import { measure } from "./measure.js";
import { report } from "./output.js";

const ROUNDS = Number(process.env.ROUNDS ?? 2);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 4);
/** The long-call scene's idle period: short enough to watch the pool shrink in the run. */
const SCENE_IDLE_MS = Number(process.env.SCENE_IDLE_MS ?? 3_000);

const binary = await requireGoServer("bench:limits");

async function goServers(count: number, limit: number, delayMs: number): Promise<BenchServer[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      startGoServer(binary, ["-max-streams", String(limit), "-delay", `${delayMs}ms`]),
    ),
  );
}

const target = (servers: BenchServer[]) => `ipv4:${servers.map((s) => s.address).join(",")}`;

function client(options: ClientOptions): GreeterSdkClient {
  return createGreeterClient({ retry: false, ...options });
}

/** Serving connections per address, from the client's own stats. */
function poolSizes(sdk: GreeterSdkClient): number[] {
  const sizes = new Map<string, number>();
  for (const c of sdk.$channel.stats()) sizes.set(c.address, c.poolSize);
  return [...sizes.values()];
}

interface ThroughputRow {
  scenario: string;
  client: string;
  callsPerSecond: number;
  ofIdeal: number;
  failures: number;
  connections: number[];
  limitSource: string;
}

async function throughput(
  scenario: string,
  limit: number,
  delayMs: number,
  concurrency: number,
  subjects: [string, Strategy][],
): Promise<ThroughputRow[]> {
  const servers = await goServers(3, limit, delayMs);
  // Every call in flight running: what the servers could do with no stream limit.
  const ideal = (concurrency * 1000) / delayMs;
  const runs = new Map<string, { callsPerSecond: number; failures: number; connections: number[]; source: string }[]>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? subjects : [...subjects].reverse();
      for (const [name, strategy] of order) {
        const sdk = client({ target: target(servers), strategy });
        // A few calls first: connections up, each server's limit learned.
        await measure(() => sdk.sayHello({ name: "warm" }), { concurrency: 3, durationMs: delayMs * 3 });
        const cell = await measure(() => sdk.sayHello({ name: "bench" }), {
          concurrency,
          durationMs: SECONDS * 1_000,
        });
        const source = sdk.$channel.stats()[0]?.streamLimitSource ?? "-";
        runs.set(name, [
          ...(runs.get(name) ?? []),
          { callsPerSecond: cell.callsPerSecond, failures: cell.failures, connections: poolSizes(sdk), source },
        ]);
        sdk.close();
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  return subjects.map(([name]) => {
    const list = runs.get(name)!;
    const callsPerSecond = median(list.map((r) => r.callsPerSecond));
    return {
      scenario,
      client: name,
      callsPerSecond,
      ofIdeal: callsPerSecond / ideal,
      failures: list.reduce((n, r) => n + r.failures, 0),
      connections: list.at(-1)!.connections,
      limitSource: list.at(-1)!.source,
    };
  });
}

interface SceneRow {
  client: string;
  lastEndsMs: number;
  failures: number;
  /** [ms since the burst, connections serving] whenever the size changed. */
  sizes: [number, number][];
}

/** One server, limit 100, 300 calls of 2 s at once; then watch the pool until it is back to its minimum. */
async function longCalls(name: string, strategy: Strategy): Promise<SceneRow> {
  const [server] = await goServers(1, 100, 2_000);
  const sdk = client({ target: server!.address, strategy });
  try {
    await sdk.sayHello({ name: "warm" });
    const sizes: [number, number][] = [];
    const start = performance.now();
    const sample = () => {
      const size = sdk.$channel.stats().filter((c) => c.role === "serving").length;
      if (sizes.at(-1)?.[1] !== size) sizes.push([Math.round(performance.now() - start), size]);
    };
    const sampler = setInterval(sample, 50);
    let failures = 0;
    let lastEnd = 0;
    await Promise.all(
      Array.from({ length: 300 }, () =>
        sdk.sayHello({ name: "long" }).then(
          () => {
            lastEnd = performance.now();
          },
          () => void failures++,
        ),
      ),
    );
    const lastEndsMs = Math.round(lastEnd - start);
    // Bounded: the pool should be back to one within a few idle periods.
    const until = performance.now() + 6 * SCENE_IDLE_MS + 5_000;
    while (performance.now() < until && sdk.$channel.stats().length > 1) await new Promise((r) => setTimeout(r, 100));
    sample();
    clearInterval(sampler);
    return { client: name, lastEndsMs, failures, sizes };
  } finally {
    sdk.close();
    await server!.stop();
  }
}

const rows = [
  ...(await throughput("limit 100, 200 ms, 600 in flight", 100, 200, 600, [
    ["roundRobin()", roundRobin()],
    ["pool(2)", pool(2)],
    ["pool()", pool()],
  ])),
  ...(await throughput("limit 10, 50 ms, 150 in flight", 10, 50, 150, [
    ["roundRobin()", roundRobin()],
    ["pool(4)", pool(4)],
    ["pool()", pool()],
    ["pool({ streamsPerConnection: 10 })", pool({ streamsPerConnection: 10 })],
  ])),
];
const scenes = [
  await longCalls("pickFirst()", pickFirst()),
  await longCalls(`pool({ idleMs: ${SCENE_IDLE_MS} })`, pool({ idleMs: SCENE_IDLE_MS })),
];

const text = [
  `3 grpc-go servers, ${ROUNDS} interleaved rounds of ${SECONDS} s; ideal = calls in flight / handler time = 3,000 calls/s`,
  table(
    ["situation", "client", "calls/s", "of ideal", "fails", "connections per address", "limit from"],
    rows.map((r) => [
      r.scenario,
      r.client,
      r.callsPerSecond.toFixed(0),
      r.ofIdeal.toFixed(2),
      String(r.failures),
      r.connections.join("/"),
      r.limitSource,
    ]),
  ),
  "",
  "one grpc-go server, limit 100: 300 calls of 2 s started at once",
  table(
    ["client", "last call ends (ms)", "fails", "serving connections over time (ms: n)"],
    scenes.map((s) => [
      s.client,
      String(s.lastEndsMs),
      String(s.failures),
      s.sizes.map(([t, n]) => `${t}: ${n}`).join(", "),
    ]),
  ),
].join("\n");
report("limits", text, { rounds: ROUNDS, seconds: SECONDS, rows, scenes });
