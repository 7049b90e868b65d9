import { setTimeout as delay } from "node:timers/promises";
import type { LoadResult } from "../../harness/load.js";
import { strategies } from "../../harness/strategies.js";
import type { DemoCluster } from "./cluster.js";
import { countingClient, drive, type SceneSettings, warmUp } from "./scene-kit.js";

export interface CrashResult extends LoadResult {
  strategy: string;
  /** ms from the restart until the restarted backend served again; undefined if it did not. */
  backAfterMs: number | undefined;
  expected: string;
  ok: boolean;
}

/** Scene 3: a backend is killed (SIGKILL) under load and restarted a second later. */
export async function crashScene(cluster: DemoCluster, settings: SceneSettings): Promise<CrashResult[]> {
  const victim = cluster.aged[0]!;
  const results: CrashResult[] = [];
  for (const [name, strategy] of strategies(settings.poolSize)) {
    const { client, served, call, ok } = countingClient({ target: cluster.dnsTarget, strategy });
    try {
      await warmUp(call);
      served.clear();
      let restartedAt: number | undefined;
      let backAt: number | undefined;
      const events = (async () => {
        await delay(500);
        await victim.kill();
        await delay(1_000);
        await victim.restart();
        restartedAt = performance.now();
        served.delete(victim.host);
      })();
      const sticky = name === "pickFirst()";
      // Ends as soon as the restarted backend is used again; the bound leaves
      // room for a slow restart plus grpc-js's reconnect backoff (1 s, 1.6 s, …).
      const load = await drive(settings, `${name}: ${victim.host} killed`, call, ok, {
        durationMs: 12_000,
        stopWhen: () => {
          if (restartedAt === undefined) return false;
          if (backAt === undefined && (served.get(victim.host) ?? 0) > 0) backAt = performance.now() - restartedAt;
          return sticky ? performance.now() - restartedAt > 1_000 : backAt !== undefined;
        },
      });
      await events;
      results.push({
        ...load,
        strategy: name,
        backAfterMs: backAt,
        expected: sticky ? "0 failures; moves to the next address" : "0 failures; restarted backend used again",
        ok: load.failures === 0 && (sticky || backAt !== undefined),
      });
    } finally {
      client.close();
    }
  }
  return results;
}
