import { setTimeout as delay } from "node:timers/promises";
import type { LoadResult } from "../../harness/load.js";
import { strategies } from "../../harness/strategies.js";
import type { DemoCluster } from "./cluster.js";
import { countingClient, drive, type SceneSettings, warmUp } from "./scene-kit.js";

/** When, into a scene's load, the servers are asked how many connections they see. */
const CONNECTIONS_AT_MS = 500;

export interface SpreadResult extends LoadResult {
  strategy: string;
  path: "DNS" | "L4 proxy";
  connections: number;
  /** Share of calls per backend host, 0..1. */
  shares: Record<string, number>;
  expected: string;
  ok: boolean;
}

/** Scene 1: each strategy under load, via DNS and via the single-IP L4 proxy. */
export async function spreadScene(cluster: DemoCluster, settings: SceneSettings): Promise<SpreadResult[]> {
  const { count, poolSize } = settings;
  const backends = cluster.aged.slice(0, count);
  const results: SpreadResult[] = [];
  for (const path of ["DNS", "L4 proxy"] as const) {
    for (const [name, strategy] of strategies(poolSize)) {
      const target = path === "DNS" ? cluster.dnsTarget : cluster.proxy.address;
      const { client, call, ok } = countingClient({ target, strategy });
      try {
        await warmUp(call);
        await Promise.all(backends.map((b) => b.reset()));
        // Connections are counted early in the scene, before any can reach
        // max age and be replaced (which would count one connection twice).
        const early = delay(CONNECTIONS_AT_MS).then(async () =>
          (await Promise.all(backends.map((b) => b.stats()))).reduce((n, s) => n + s.connections, 0),
        );
        const load = await drive(settings, `${name} via ${path}`, call, ok, { durationMs: settings.durationMs });
        const stats = await Promise.all(backends.map((b) => b.stats()));
        const total = stats.reduce((n, s) => n + s.calls, 0);
        const shares = stats.map((s) => (total === 0 ? 0 : s.calls / total));
        const connections = await early;
        const reached = shares.filter((s) => s > 0).length;
        // Round robin's turns are exact, but these servers close connections at their max age
        // (a turn is skipped while one reconnects): within a quarter of even.
        const even = shares.every((s) => Math.abs(s - 1 / count) <= 0.25 / count);
        const busiest = Math.max(...shares);
        // What the README (quick start) and docs/demo.md promise for each strategy and path.
        const [expected, holds] = promise(name, path, connections, reached, even, busiest, settings);
        results.push({
          ...load,
          strategy: name,
          path,
          connections,
          shares: Object.fromEntries(backends.map((b, i) => [b.host, shares[i]!])),
          expected,
          ok: holds && load.failures === 0,
        });
      } finally {
        client.close();
      }
    }
  }
  return results;
}

function promise(
  name: string,
  path: SpreadResult["path"],
  connections: number,
  reached: number,
  even: boolean,
  busiest: number,
  { count, poolSize }: SceneSettings,
): [string, boolean] {
  if (path === "L4 proxy") {
    // One connection, so one backend at a time: the servers' max age may move it (on a slow machine,
    // within the scene), and the proxy may hand the new connection another backend.
    if (name !== `pool(${poolSize})`) {
      return ["1 connection, 1 backend (one IP)", connections === 1 && (reached === 1 || busiest >= 0.5)];
    }
    const backends = Math.min(poolSize, count);
    return [`${poolSize} connections, ${backends} backends`, connections === poolSize && reached === backends];
  }
  if (name === "pickFirst()") return ["1 connection, 1 backend", connections === 1 && reached === 1];
  if (name === "roundRobin()") return [`${count} connections, even shares`, connections === count && even];
  return [`${count * poolSize} connections, all backends`, connections === count * poolSize && reached === count];
}
