// Which pick should pool(n) use by default? Measures, in one run:
// 1. the cost of one pick (ns), round robin vs. p2c, over 8 and 64 members;
// 2. calls/s and latency of pool(6) behind an L4 proxy whose third backend is
//    slow, round robin vs. p2c, interleaved (A B A B …), servers in another process.
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { type LoadResult, median, runLoad } from "../harness/load.js";
import { spawnServers } from "../harness/spawn-servers.js";
import { table } from "../harness/table.js";
import { type PickPolicy, pool } from "../src/strategy.js";
import { report } from "./output.js";
import { pickCost } from "./pick-cost.js";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 3);
const SLOW_MS = Number(process.env.SLOW_MS ?? 5);
const policies: PickPolicy[] = ["roundRobin", "p2c"];

const costs = policies.flatMap((policy) => [8, 64].map((size) => ({ policy, size, ns: pickCost(policy, size) })));

const servers = await spawnServers({ SLOW_MS: String(SLOW_MS) });
const runs: Record<PickPolicy, LoadResult[]> = { roundRobin: [], p2c: [] };
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const pick of policies) {
      const client = createGreeterClient({ target: servers.proxy, strategy: pool(6, { pick }) });
      await runLoad(() => client.sayHello({ name: "warm" }), { concurrency: 20, durationMs: 1000, maxCalls: 500 });
      runs[pick].push(
        await runLoad(() => client.sayHello({ name: "bench" }), { concurrency: 100, durationMs: SECONDS * 1000 }),
      );
      client.close();
    }
  }
} finally {
  await servers.stop();
}

const summary = policies.map((pick) => ({
  pick,
  callsPerSecond: median(runs[pick].map((r) => r.callsPerSecond)),
  p50Ms: median(runs[pick].map((r) => r.p50Ms)),
  p99Ms: median(runs[pick].map((r) => r.p99Ms)),
  failures: runs[pick].reduce((n, r) => n + r.failures, 0),
}));
const rr = summary[0]!;
report(
  "pick",
  [
    "Pick cost (ns per pick)",
    table(
      ["pick", "members", "ns/pick"],
      costs.map((c) => [c.policy, String(c.size), c.ns.toFixed(1)]),
    ),
    "",
    `pool(6) behind an L4 proxy, 3 backends, one ${SLOW_MS} ms slower; c=100, ${ROUNDS} × ${SECONDS} s interleaved, medians`,
    table(
      ["pick", "calls/s", "vs roundRobin", "p50 ms", "p99 ms", "failures"],
      summary.map((s) => [
        s.pick,
        s.callsPerSecond.toFixed(0),
        `${(s.callsPerSecond / rr.callsPerSecond).toFixed(2)}×`,
        s.p50Ms.toFixed(2),
        s.p99Ms.toFixed(2),
        String(s.failures),
      ]),
    ),
  ].join("\n"),
  { slowMs: SLOW_MS, costs, summary },
);
