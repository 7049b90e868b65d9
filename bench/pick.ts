// What pool(n)'s pick and client max connection age cost and buy, in one run:
// 1. the pick's cost, ns, over 1 to 1024 connections (p2c and round robin);
// 2. 3 backends behind a DNS name, one answering 20 ms late: calls/s, p99 and
//    the slow backend's share, p2c vs round robin, interleaved (A B A B …);
// 3. the CPU and RSS cost of recycling connections every 1 s vs never.
// Servers run in other processes. Speed is reported, never asserted.

// grpc-js asks a DNS server named in the target only with this set before it
// loads: this benchmark's own process opts in (the SDK never does).
process.env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER ??= "true";
const { spawn } = await import("node:child_process");
const { join } = await import("node:path");
const { pool, roundRobin } = await import("balanced-grpc");
const { spawnBackends } = await import("../harness/backend-group.js");
const { startDnsServer } = await import("../harness/dns-server.js");
const { median } = await import("../harness/load.js");
const { table } = await import("../harness/table.js");
const { countingClient } = await import("../harness/counting-client.js");
const { report } = await import("./output.js");
const { pickCost } = await import("./pick-cost.js");
const { measure } = await import("./measure.js");

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 3);
const SLOW_MS = Number(process.env.SLOW_MS ?? 20);

// 1. The pick's cost.
const costs = [1, 8, 64, 1024].flatMap((size) =>
  (["p2c", "roundRobin"] as const).map((pick) => ({ size, pick, ns: pickCost(size, pick) })),
);

// 2. A slow backend behind DNS.
const backends = await spawnBackends(3);
const dns = await startDnsServer();
dns.set(
  "greeter.bench",
  backends.list.map((b) => b.host),
);
const target = dns.target("greeter.bench", backends.port);
const slow = backends.list[2]!;
await slow.set({ slowMs: SLOW_MS });
const variants = [
  ["roundRobin()", roundRobin()],
  ["pool(2), pick roundRobin", pool(2, { pick: "roundRobin" })],
  ["pool(2), pick p2c", pool(2)],
] as const;
const runs = new Map<
  string,
  { callsPerSecond: number; p50Ms: number; p99Ms: number; slowShare: number; failures: number }[]
>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, strategy] of variants) {
    const client = countingClient({ target, strategy });
    await measure(client.call, { concurrency: 20, durationMs: 1_000 });
    client.reset();
    const cell = await measure(client.call, { concurrency: 100, durationMs: SECONDS * 1_000 });
    const total = [...client.served.values()].reduce((a, b) => a + b, 0);
    runs.set(name, [
      ...(runs.get(name) ?? []),
      { ...cell, slowShare: (client.served.get(slow.host) ?? 0) / Math.max(1, total) },
    ]);
    client.client.close();
  }
}
await slow.set({ slowMs: 0 });

// 3. Recycling cost: a probe process per run, age 1 s vs off, interleaved.
const probe = (age: number) =>
  new Promise<Record<string, number>>((resolve, reject) => {
    const file = join(import.meta.dirname, `recycle-probe${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`);
    const child = spawn(
      process.execPath,
      [...process.execArgv, file, backends.target, String(age), String(SECONDS * 2)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`probe exited ${code}`))));
  });
const recycling = new Map<number, Record<string, number>[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const age of [0, 1_000]) {
    // The servers count the distinct connections a run opened: 24 (8 per backend), plus one per recycle.
    await Promise.all(backends.list.map((b) => b.reset()));
    const run = await probe(age);
    const connections = (await Promise.all(backends.list.map((b) => b.stats()))).reduce((n, s) => n + s.connections, 0);
    recycling.set(age, [...(recycling.get(age) ?? []), { ...run, recycles: connections - 24 }]);
  }
}
await dns.close();
await Promise.all(backends.list.map((b) => b.stop()));

const summary = variants.map(([name]) => {
  const list = runs.get(name)!;
  const of = (f: (x: (typeof list)[number]) => number) => median(list.map(f));
  return {
    pick: name,
    callsPerSecond: of((x) => x.callsPerSecond),
    p50Ms: of((x) => x.p50Ms),
    p99Ms: of((x) => x.p99Ms),
    slowShare: of((x) => x.slowShare),
    failures: list.reduce((n, x) => n + x.failures, 0),
  };
});
const recycleSummary = [0, 1_000].map((age) => {
  const list = recycling.get(age)!;
  const of = (key: string) => median(list.map((x) => x[key]!));
  return {
    maxConnectionAge: age === 0 ? "off" : `${age} ms`,
    callsPerSecond: of("callsPerSecond"),
    cpuUsPerCall: of("cpuUsPerCall"),
    rssMb: of("rssMb"),
    rssGrowthMb: of("rssGrowthMb"),
    recyclesPerSecond: of("recycles") / (SECONDS * 2 + 1), // the probe's warm-up second included
    failures: list.reduce((n, x) => n + x.failures!, 0),
  };
});
const rr = summary[0]!;
report(
  "pick",
  [
    "The pick's cost (ns per call: choose a connection, count the call on it), through grpc-js's picker API",
    table(
      ["connections", "p2c ns", "roundRobin ns"],
      [1, 8, 64, 1024].map((size) => [
        String(size),
        costs.find((c) => c.size === size && c.pick === "p2c")!.ns.toFixed(1),
        costs.find((c) => c.size === size && c.pick === "roundRobin")!.ns.toFixed(1),
      ]),
    ),
    "",
    `3 backends behind a DNS name, ${slow.host} answers ${SLOW_MS} ms late; c=100, ${ROUNDS} × ${SECONDS} s interleaved, medians`,
    table(
      ["client", "calls/s", "vs roundRobin()", "p50 ms", "p99 ms", "slow backend's share", "failures"],
      summary.map((s) => [
        s.pick,
        s.callsPerSecond.toFixed(0),
        `${(s.callsPerSecond / rr.callsPerSecond).toFixed(2)}×`,
        s.p50Ms.toFixed(2),
        s.p99Ms.toFixed(2),
        `${(s.slowShare * 100).toFixed(1)}%`,
        String(s.failures),
      ]),
    ),
    "",
    `Client max connection age: pool(8) over 3 backends, c=20 for ${SECONDS * 2} s per run, ${ROUNDS} runs each, medians`,
    table(
      ["maxConnectionAge", "calls/s", "CPU µs/call", "RSS MB", "RSS growth MB", "recycles/s", "failures"],
      recycleSummary.map((r) => [
        r.maxConnectionAge,
        r.callsPerSecond.toFixed(0),
        r.cpuUsPerCall.toFixed(1),
        r.rssMb.toFixed(1),
        r.rssGrowthMb.toFixed(1),
        r.recyclesPerSecond.toFixed(1),
        String(r.failures),
      ]),
    ),
  ].join("\n"),
  { slowMs: SLOW_MS, costs, summary, recycling: recycleSummary },
);
