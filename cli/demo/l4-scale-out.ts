import { pool } from "balanced-grpc";
import type { DemoCluster } from "./cluster.js";
import { countingClient, drive, type SceneSettings, warmUp } from "./scene-kit.js";

/** Connections of the pool in this scene: several per backend, so new ones land everywhere. */
const POOL_SIZE = 8;

export interface L4ScaleOutResult {
  strategy: string;
  /** ms from the change behind the proxy to the new backend's first call; undefined if it got none. */
  servedAfterMs: number | undefined;
  /** The new backend's share of the calls after it was first served, 0..1. */
  newShare: number;
  failures: number;
  expected: string;
  ok: boolean;
}

/**
 * Scene 5: servers that set no max connection age, behind a single-IP L4
 * balancer; a backend is added behind it while a pool runs. Without help from
 * the servers, only the client's own `maxConnectionAge` moves connections
 * onto it.
 */
export async function l4ScaleOutScene(cluster: DemoCluster, settings: SceneSettings): Promise<L4ScaleOutResult[]> {
  const { count } = settings;
  const spare = cluster.plain[count]!;
  const window = 2 * settings.clientMaxAgeMs + 1_000;
  const results: L4ScaleOutResult[] = [];
  for (const recycle of [false, true]) {
    const name = recycle ? `pool(${POOL_SIZE}), maxConnectionAge ${settings.clientMaxAgeMs}` : `pool(${POOL_SIZE})`;
    cluster.plainProxy.setBackends(cluster.plain.slice(0, count).map((b) => b.address));
    const { client, served, call, ok } = countingClient({
      target: cluster.plainProxy.address,
      strategy: pool(POOL_SIZE),
      retry: false, // what keeps failures at 0 is the recycling itself
      ...(recycle ? { maxConnectionAge: settings.clientMaxAgeMs } : {}),
    });
    try {
      await warmUp(call);
      cluster.plainProxy.setBackends(cluster.plain.map((b) => b.address));
      const changed = performance.now();
      let foundAt: number | undefined;
      let totalAtFound = 0;
      const total = () => [...served.values()].reduce((a, b) => a + b, 0);
      const load = await drive(settings, `${name}: waiting for ${spare.host}`, call, ok, {
        durationMs: window,
        concurrency: 20,
        stopWhen: () => {
          if (foundAt === undefined && (served.get(spare.host) ?? 0) > 0) {
            foundAt = performance.now() - changed;
            totalAtFound = total();
          }
          // Once found, keep going for a second to see its share.
          return foundAt !== undefined && performance.now() - changed > foundAt + 1_000;
        },
      });
      const after = total() - totalAtFound;
      const newShare = after === 0 ? 0 : ((served.get(spare.host) ?? 0) - 1) / after;
      results.push({
        strategy: name,
        servedAfterMs: foundAt,
        newShare: Math.max(0, newShare),
        failures: load.failures,
        expected: recycle ? `served within ${2 * settings.clientMaxAgeMs} ms, 0 failures` : "never served",
        ok:
          load.failures === 0 &&
          (recycle ? foundAt !== undefined && foundAt <= 2 * settings.clientMaxAgeMs : foundAt === undefined),
      });
    } finally {
      client.close();
    }
  }
  return results;
}
