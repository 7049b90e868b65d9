import { roundRobin } from "balanced-grpc";
import { afterEach, expect, test } from "vitest";
import { spawnBackends } from "../../harness/backend-group.js";
import type { BackendProcess } from "../../harness/backend-process.js";
import { countingClient } from "../../harness/counting-client.js";
import { runLoad } from "../../harness/load.js";

// 3 backends (real processes); the third starts failing every other call.
// Shares are counted by the servers, failing calls included.

let backends: BackendProcess[] = [];
afterEach(async () => {
  await Promise.all(backends.map((b) => b.kill()));
  backends = [];
});

/** Each backend's share of the calls made during `durationMs` of load. */
async function shares(call: () => Promise<void>, durationMs: number): Promise<{ shares: number[]; failures: number }> {
  await Promise.all(backends.map((b) => b.reset()));
  const result = await runLoad(call, { concurrency: 20, durationMs });
  const stats = await Promise.all(backends.map((b) => b.stats()));
  const total = stats.reduce((n, s) => n + s.calls, 0);
  return { shares: stats.map((s) => s.calls / total), failures: result.failures };
}

test("with outlierDetection, a backend failing half its calls is ejected within seconds, and comes back once it recovers", async () => {
  backends = (await spawnBackends(3)).list;
  const target = `ipv4:${backends.map((b) => b.address).join(",")}`;
  const client = countingClient({ target, strategy: roundRobin(), outlierDetection: true, retry: false });
  const call = () => client.call();
  try {
    await runLoad(call, { concurrency: 20, durationMs: 1_000 });
    await backends[2]!.set({ failEvery: 2 });
    const failingAt = performance.now();
    // Ejected once an interval (1 s) saw it fail more than 30% of 20+ calls.
    let ejectedAfter: number | undefined;
    for (let i = 0; i < 10 && ejectedAfter === undefined; i++) {
      const { shares: s } = await shares(call, 500);
      if (s[2]! < 0.05) ejectedAfter = performance.now() - failingAt;
    }
    expect(ejectedAfter).toBeDefined();
    const ejected = await shares(call, 1_500);
    console.log(
      `failing backend ejected ${ejectedAfter!.toFixed(0)} ms after it started failing; share while ejected ${(ejected.shares[2]! * 100).toFixed(1)}%, ${ejected.failures} failed calls`,
    );
    expect(ejected.shares[2]!).toBeLessThan(0.05);
    expect(ejected.failures).toBeLessThan(20); // at most the calls in flight as it was ejected
    // …while the other two share the calls (round robin over what is left).
    for (const share of ejected.shares.slice(0, 2)) expect(share).toBeGreaterThan(0.4);

    await backends[2]!.set({ failEvery: 0 });
    const recoveredAt = performance.now();
    // Back after its ejection time (5 s, more if ejected again in a row).
    let backAfter: number | undefined;
    for (let i = 0; i < 40 && backAfter === undefined; i++) {
      const { shares: s } = await shares(call, 500);
      if (s[2]! > 0.2) backAfter = performance.now() - recoveredAt;
    }
    console.log(`recovered backend's share back above 20% ${backAfter?.toFixed(0)} ms after it recovered`);
    expect(backAfter).toBeDefined();
  } finally {
    client.client.close();
  }
});

test("without it, the failing backend keeps its full share: the test can tell", async () => {
  backends = (await spawnBackends(3)).list;
  const target = `ipv4:${backends.map((b) => b.address).join(",")}`;
  const client = countingClient({ target, strategy: roundRobin(), retry: false });
  const call = () => client.call();
  try {
    await runLoad(call, { concurrency: 20, durationMs: 1_000 });
    await backends[2]!.set({ failEvery: 2 });
    await runLoad(call, { concurrency: 20, durationMs: 2_000 }); // longer than ejection takes with the option
    const { shares: s, failures } = await shares(call, 1_500);
    expect(s[2]!).toBeGreaterThan(0.3);
    expect(failures).toBeGreaterThan(0);
  } finally {
    client.client.close();
  }
});
