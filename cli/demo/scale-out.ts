import { strategies } from "../../harness/strategies.js";
import type { DemoCluster } from "./cluster.js";
import { countingClient, drive, type SceneSettings, warmUp } from "./scene-kit.js";

export interface ScaleOutResult {
  strategy: string;
  /** ms from the DNS change to the new backend's first call; undefined if it got none. */
  servedAfterMs: number | undefined;
  failures: number;
  expected: string;
  ok: boolean;
}

/** Scene 2: the spare is added to DNS while each strategy runs; servers rotate connections at max age. */
export async function scaleOutScene(cluster: DemoCluster, settings: SceneSettings): Promise<ScaleOutResult[]> {
  const { count, maxAgeMs } = settings;
  const spare = cluster.aged[count]!;
  // grpc-js jitters max age by ±10%; the SDK re-resolves at most every 1 s.
  const promise = Math.round(maxAgeMs * 1.1) + 1_000;
  const results: ScaleOutResult[] = [];
  for (const [name, strategy] of strategies(settings.poolSize)) {
    cluster.setDnsBackends(count);
    const { client, served, call, ok } = countingClient({ target: cluster.dnsTarget, strategy });
    try {
      await warmUp(call);
      cluster.setDnsBackends(count + 1);
      const changed = performance.now();
      let foundAt: number | undefined;
      const check = () => {
        if (foundAt === undefined && (served.get(spare.host) ?? 0) > 0) foundAt = performance.now() - changed;
        return foundAt !== undefined;
      };
      // pickFirst keeps to the first address: give it the full window to show it.
      const load = await drive(settings, `${name}: waiting for ${spare.host}`, call, ok, {
        durationMs: promise + 1_000,
        concurrency: 10,
        stopWhen: check,
      });
      check();
      const sticky = name === "pickFirst()";
      results.push({
        strategy: name,
        servedAfterMs: foundAt,
        failures: load.failures,
        expected: sticky ? "stays on the first address" : `served within ${promise} ms (max age × 1.1 + 1 s)`,
        ok:
          load.failures === 0 && (sticky ? foundAt === undefined : foundAt !== undefined && foundAt <= promise + 1_000),
      });
    } finally {
      client.close();
    }
  }
  cluster.setDnsBackends(count);
  return results;
}
