import { pool, roundRobin, type Strategy } from "balanced-grpc";
import type { LoadResult } from "../../harness/load.js";
import { runLoad } from "../../harness/load.js";
import type { DemoCluster } from "./cluster.js";
import { countingClient, drive, type SceneSettings, shares } from "./scene-kit.js";

/** How much later the slow backend answers, ms. */
// 100 ms: a margin that a busy machine's event-loop delay does not erase (20 ms did, at times).
export const SLOW_MS = 100;

export interface SlowBackendResult extends LoadResult {
  strategy: string;
  /** Share of calls per backend host, 0..1. */
  shares: Record<string, number>;
  /** p99 latency of the calls each backend served, ms. */
  p99ByBackend: Record<string, number>;
  expected: string;
  ok: boolean;
}

/**
 * Scene 4: one backend in DNS answers 20 ms late. roundRobin() keeps giving it
 * a third of the calls; pool(n)'s p2c sees its calls pile up and sends it
 * fewer.
 */
export async function slowBackendScene(cluster: DemoCluster, settings: SceneSettings): Promise<SlowBackendResult[]> {
  const { count } = settings;
  const backends = cluster.aged.slice(0, count);
  const slow = backends[count - 1]!;
  const hosts = backends.map((b) => b.host);
  // pool(2) over the DNS name: two connections per backend, each call the
  // less busy of two (as the test checks it).
  const variants: [string, Strategy][] = [
    ["roundRobin()", roundRobin()],
    ["pool(2), p2c", pool(2)],
  ];
  const results: SlowBackendResult[] = [];
  await slow.set({ slowMs: SLOW_MS });
  try {
    for (const [name, strategy] of variants) {
      const { client, served, call, ok, reset, p99 } = countingClient({ target: cluster.dnsTarget, strategy });
      try {
        // At full load for a while first: each connection's latency estimate settles.
        await runLoad(call, { concurrency: settings.concurrency, durationMs: 1_500 });
        reset();
        const load = await drive(settings, `${name}: ${slow.host} is ${SLOW_MS} ms slow`, call, ok, {
          durationMs: settings.durationMs,
        });
        const share = shares(served, hosts);
        const slowShare = share[count - 1]!;
        const p2c = name !== "roundRobin()";
        const fair = 1 / count;
        results.push({
          ...load,
          strategy: name,
          shares: Object.fromEntries(hosts.map((h, i) => [h, share[i]!])),
          p99ByBackend: Object.fromEntries(hosts.map((h) => [h, p99(h)])),
          expected: p2c
            ? `slow backend ≤ ${Math.round(fair * 60)}% of calls`
            : `slow backend ~${Math.round(fair * 100)}% (in turn)`,
          ok: load.failures === 0 && (p2c ? slowShare <= fair * 0.6 : Math.abs(slowShare - fair) <= fair * 0.15),
        });
      } finally {
        client.close();
      }
    }
  } finally {
    await slow.set({ slowMs: 0 });
  }
  return results;
}
