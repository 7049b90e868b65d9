// Routing around trouble (issue 18): three backends (each its own process,
// 127.0.0.1-3, one target), SayHello (NO_SIDE_EFFECTS) at CONCURRENCY, for
// DURATION_MS per cell, cells of one scenario interleaved (A B A B …):
// - healthy: the cluster's calls/s, for reference;
// - one failing: one backend answers UNAVAILABLE at once to every call;
// - outage: every backend does;
// - stalls: 2% of calls on every grpc-go server stall STALL_MS, with and without
//   hedging, in an open loop (calls started at RATE a second).
// Counts come from the servers (attempts each received), latencies from the client.

import { type ClientOptions, pool, roundRobin } from "balanced-grpc";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { spawnBackends } from "../harness/backend-group.js";
import type { BackendProcess } from "../harness/backend-process.js";
import { requireGoServer, startGoServer } from "../harness/go-server.js";
import { percentile, runLoad, runOpenLoop } from "../harness/load.js";
import { table } from "../harness/table.js";
import { report } from "./output.js";

const CONCURRENCY = Number(process.env.CONCURRENCY ?? 20);
const DURATION_MS = Number(process.env.DURATION_MS ?? 3_000);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const STALL_MS = Number(process.env.STALL_MS ?? 300);
/** Calls a second in the stall scenario's open loop. */
const RATE = Number(process.env.RATE ?? 1_500);

interface Cell {
  scenario: string;
  client: string;
  calls: number;
  failures: number;
  callsPerSecond: number;
  attemptsPerCall: number;
  /** The failing backend's share of the attempts, after a 1 s warm-up. */
  failingShare?: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

type Variant = [name: string, options: Omit<ClientOptions, "target">];

const backends = await spawnBackends(3);
const list = backends.list;
const cells: Cell[] = [];

async function attempts(of: readonly BackendProcess[] = list): Promise<number> {
  return (await Promise.all(of.map((b) => b.stats()))).reduce((n, s) => n + s.calls, 0);
}

async function measure(scenario: string, [name, options]: Variant, failing?: BackendProcess): Promise<void> {
  const client = createGreeterClient({ target: backends.target, ...options } as ClientOptions);
  // A warm-up: connections up, the "auto" hedge delay learned, a failing backend met.
  await runLoad(() => client.sayHello({ name: "warm" }), { concurrency: CONCURRENCY, durationMs: 1_000 });
  await Promise.all(list.map((b) => b.reset()));
  const latencies: number[] = [];
  const result = await runLoad(() => client.sayHello({ name: "bench" }), {
    concurrency: CONCURRENCY,
    durationMs: DURATION_MS,
    onEnd: (e) => void latencies.push(e.endedAt - e.startedAt),
  });
  const total = await attempts();
  const bad = failing ? await attempts([failing]) : 0;
  await client.close({ graceMs: 1_000 });
  latencies.sort((a, b) => a - b);
  cells.push({
    scenario,
    client: name,
    calls: result.calls,
    failures: result.failures,
    callsPerSecond: result.callsPerSecond,
    attemptsPerCall: total / result.calls,
    ...(failing ? { failingShare: bad / total } : {}),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    p999Ms: percentile(latencies, 0.999),
  });
}

async function scenario(name: string, variants: Variant[], failing?: BackendProcess): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) await measure(name, variant, failing);
  }
}

/** Ends the scenarios early (SCENARIOS=stalls). */
class Done extends Error {}

const WITHOUT = { failureAccrual: false, retryBudget: false } as const;
/** `SCENARIOS=stalls` runs only the stall scenario (hedging), the one against grpc-go servers. */
const onlyStalls = process.env.SCENARIOS === "stalls";
try {
  if (onlyStalls) {
    await stalls();
    throw new Done();
  }
  // The servers' JIT warmed first, or the first scenario would be measured against cold servers.
  await measure("warm-up", ["roundRobin()", { strategy: roundRobin() }]);
  cells.length = 0;
  await scenario("healthy", [
    ["pool(2)", { strategy: pool(2) }],
    ["roundRobin()", { strategy: roundRobin() }],
  ]);
  const failing = list[1]!;
  await failing.set({ failEvery: 1 });
  await scenario(
    "one failing",
    [
      ["pool(2)", { strategy: pool(2) }],
      ["pool(2), accrual and budget off", { strategy: pool(2), ...WITHOUT }],
      ["roundRobin()", { strategy: roundRobin() }],
      ["roundRobin(), accrual and budget off", { strategy: roundRobin(), ...WITHOUT }],
    ],
    failing,
  );
  for (const backend of list) await backend.set({ failEvery: 1 });
  await scenario("outage", [
    ["roundRobin()", { strategy: roundRobin() }],
    ["roundRobin(), no retry budget", { strategy: roundRobin(), retryBudget: false }],
  ]);
  for (const backend of list) await backend.set({ failEvery: 0 });
  await stalls();
} catch (error) {
  if (!(error instanceof Done)) throw error;
} finally {
  await Promise.all(list.map((b) => b.stop()));
}

/**
 * Stalls, against grpc-go servers (the Node backends would be the
 * bottleneck) in an open loop: calls start on a schedule (RATE a second),
 * below saturation, so the tail measured is the servers', not the client's
 * own queue; latencies count from each call's scheduled start.
 */
async function stalls(): Promise<void> {
  const binary = await requireGoServer("bench:trouble");
  const servers = await Promise.all(
    [0, 1, 2].map(() => startGoServer(binary, ["-stall-every", "50", "-stall", `${STALL_MS}ms`])),
  );
  const target = `ipv4:${servers.map((s) => s.address).join(",")}`;
  try {
    const variants: Variant[] = [
      ["roundRobin()", { strategy: roundRobin() }],
      ["roundRobin(), hedging: true", { strategy: roundRobin(), hedging: true }],
    ];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, options] of round % 2 === 0 ? variants : [...variants].reverse()) {
        const client = createGreeterClient({ target, ...options } as ClientOptions);
        const attemptsSince = async () =>
          (await Promise.all(servers.map((s) => s.control!("calls")))).reduce((n, c) => n + Number(c), 0);
        // Warm-up: connections up, the "auto" hedge delay learned.
        await runOpenLoop(() => client.sayHello({ name: "warm" }), { ratePerSecond: RATE, durationMs: 1_500 });
        await attemptsSince();
        const latencies: number[] = [];
        const result = await runOpenLoop(() => client.sayHello({ name: "bench" }), {
          ratePerSecond: RATE,
          durationMs: DURATION_MS,
          onEnd: (e) => void latencies.push(e.endedAt - e.startedAt),
        });
        const attempts = await attemptsSince();
        await client.close({ graceMs: 1_000 });
        latencies.sort((a, b) => a - b);
        cells.push({
          scenario: `2% stall, ${RATE}/s`,
          client: name,
          calls: result.calls,
          failures: result.failures,
          callsPerSecond: result.callsPerSecond,
          attemptsPerCall: attempts / result.calls,
          p50Ms: percentile(latencies, 0.5),
          p99Ms: percentile(latencies, 0.99),
          p999Ms: percentile(latencies, 0.999),
        });
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** Medians over the rounds, per scenario and client. */
const keys = [...new Set(cells.map((c) => `${c.scenario}|${c.client}`))];
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const rows = keys.map((key) => {
  const of = cells.filter((c) => `${c.scenario}|${c.client}` === key);
  const m = (f: (c: Cell) => number) => median(of.map(f));
  return {
    scenario: of[0]!.scenario,
    client: of[0]!.client,
    calls: of.reduce((n, c) => n + c.calls, 0),
    failures: of.reduce((n, c) => n + c.failures, 0),
    callsPerSecond: m((c) => c.callsPerSecond),
    attemptsPerCall: m((c) => c.attemptsPerCall),
    failingShare: of[0]!.failingShare === undefined ? undefined : m((c) => c.failingShare!),
    p50Ms: m((c) => c.p50Ms),
    p99Ms: m((c) => c.p99Ms),
    p999Ms: m((c) => c.p999Ms),
  };
});
const healthy = median(cells.filter((c) => c.scenario === "healthy").map((c) => c.callsPerSecond));
report(
  "trouble",
  table(
    [
      "scenario",
      "client",
      "calls",
      "failed",
      "calls/s",
      "vs healthy",
      "attempts/call",
      "failing share",
      "p50",
      "p99",
      "p99.9",
    ],
    rows.map((r) => [
      r.scenario,
      r.client,
      String(r.calls),
      `${r.failures} (${((100 * r.failures) / r.calls).toFixed(2)}%)`,
      r.callsPerSecond.toFixed(0),
      healthy > 0 ? `${(r.callsPerSecond / healthy).toFixed(2)}×` : "",
      r.attemptsPerCall.toFixed(2),
      r.failingShare === undefined ? "" : `${(100 * r.failingShare).toFixed(1)}%`,
      `${r.p50Ms.toFixed(1)} ms`,
      `${r.p99Ms.toFixed(1)} ms`,
      `${r.p999Ms.toFixed(1)} ms`,
    ]),
  ),
  { concurrency: CONCURRENCY, durationMs: DURATION_MS, rounds: ROUNDS, stallMs: STALL_MS, rows },
);
