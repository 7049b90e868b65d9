import { type ClientOptions, pool } from "balanced-grpc";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { type LoadResult, runLoad } from "../../harness/load.js";
import type { DemoCluster } from "./cluster.js";
import { drive, type SceneSettings } from "./scene-kit.js";

export interface FailingBackendResult extends LoadResult {
  client: string;
  /** Attempts the servers received per call. */
  attemptsPerCall: number;
  /** The failing backend's share of the attempts. */
  failingShare: number;
  expected: string;
  ok: boolean;
}

/**
 * Scene 7: one backend in DNS answers UNAVAILABLE at once to every call (a
 * bad deploy). With failure accrual (its ejection and failure score) and the
 * retry budget off, the picks keep drawing it (round robin gives it its turns;
 * p2c, measured on a quiet machine, 22.6%: it answers fastest, so it looks
 * least loaded) and calls pay retries; with
 * the defaults it is taken out after 5 failures and only probed, and no call fails.
 */
export async function failingBackendScene(
  cluster: DemoCluster,
  settings: SceneSettings,
): Promise<FailingBackendResult[]> {
  const backends = cluster.aged.slice(0, settings.count);
  const failing = backends[0]!;
  const variants: [string, Omit<ClientOptions, "target">, boolean][] = [
    // Round robin's turns: with failure-aware picks off it keeps giving the failing backend a third of
    // the first attempts on any machine (p2c's share would depend on how fast each backend answers here).
    [
      "pool(2) in turn, accrual and budget off",
      { strategy: pool(2, { pick: "roundRobin" }), failureAccrual: false, retryBudget: false },
      false,
    ],
    ["pool(2), defaults", { strategy: pool(2) }, true],
  ];
  const attempts = async () => (await Promise.all(backends.map((b) => b.stats()))).map((s) => s.calls);
  const results: FailingBackendResult[] = [];
  await failing.set({ failEvery: 1 });
  try {
    for (const [name, options, defaults] of variants) {
      const client = createGreeterClient({ target: cluster.dnsTarget, ...options } as ClientOptions);
      let ok = 0;
      const call = async () => {
        await client.sayHello({ name: "demo" });
        ok++;
      };
      try {
        // The client meets the failing backend first.
        await runLoad(call, { concurrency: settings.concurrency, durationMs: 1_000 }).catch(() => {});
        await Promise.all(backends.map((b) => b.reset()));
        const load = await drive(settings, `${name}: ${failing.host} fails every call`, call, () => ok, {
          durationMs: settings.durationMs,
        });
        const counts = await attempts();
        const total = counts.reduce((a, b) => a + b, 0);
        const failingShare = total === 0 ? 0 : counts[0]! / total;
        results.push({
          ...load,
          client: name,
          attemptsPerCall: total / Math.max(1, load.calls),
          failingShare,
          expected: defaults ? "0 failures, failing backend ≤ 5% of attempts" : "before: it draws ≥ 10% of attempts",
          // The before row must show the problem, or the scene shows nothing fixed.
          ok: defaults ? load.failures === 0 && failingShare <= 0.05 : failingShare >= 0.1,
        });
      } finally {
        await client.close({ graceMs: 1_000 });
      }
    }
  } finally {
    await failing.set({ failEvery: 0 });
  }
  return results;
}
