// Zero-loss rotation: servers close every connection after MAX_AGE_MS (grace
// GRACE_MS) while CALLS unary calls run at CONCURRENCY, for each strategy.
// Prints failures by code and details, and the refused streams sent again.
// Servers run in other processes.

import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { spawnBackends } from "../harness/backend-group.js";
import { runCalls } from "../harness/load.js";
import { strategies } from "../harness/strategies.js";
import { table } from "../harness/table.js";
import { report } from "./output.js";

const CALLS = Number(process.env.CALLS ?? 30_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 100);
const MAX_AGE_MS = Number(process.env.MAX_AGE_MS ?? 200);
const GRACE_MS = Number(process.env.GRACE_MS ?? 1000);
const RETRY = process.env.RETRY === "1";

const backends = await spawnBackends(3, { maxConnectionAge: MAX_AGE_MS, maxConnectionAgeGrace: GRACE_MS });
const results = [];
try {
  for (const [name, strategy] of strategies(4)) {
    // Retries are off unless RETRY=1: this measures the channel, where a
    // refused stream is sent again for any method.
    const client = createGreeterClient({ target: backends.target, strategy, ...(RETRY ? {} : { retry: false }) });
    const started = performance.now();
    const { ok, failed } = await runCalls(CALLS, CONCURRENCY, () => client.sayHello({ name: "rotation" }));
    const seconds = (performance.now() - started) / 1000;
    const replays = client.$channel.refusedStreamReplays;
    client.close();
    const reasons = new Map<string, number>();
    for (const error of failed) {
      const e = error as { code?: number; details?: string; message?: string };
      const key = `${e.code ?? "?"} ${e.details ?? e.message}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    results.push({
      strategy: name,
      calls: CALLS,
      ok,
      failures: failed.length,
      replays,
      callsPerSecond: CALLS / seconds,
      reasons: Object.fromEntries(reasons),
    });
  }
} finally {
  await Promise.all(backends.list.map((b) => b.stop()));
}
report(
  "rotation",
  [
    `Max connection age ${MAX_AGE_MS} ms, grace ${GRACE_MS} ms, 3 backends; ${CALLS} SayHello calls at c=${CONCURRENCY}; retries ${RETRY ? "on" : "off"}`,
    table(
      ["strategy", "calls", "failures", "refused streams sent again", "calls/s", "failure reasons"],
      results.map((r) => [
        r.strategy,
        String(r.calls),
        String(r.failures),
        String(r.replays),
        r.callsPerSecond.toFixed(0),
        JSON.stringify(r.reasons),
      ]),
    ),
  ].join("\n"),
  { maxAgeMs: MAX_AGE_MS, graceMs: GRACE_MS, concurrency: CONCURRENCY, retry: RETRY, results },
);
