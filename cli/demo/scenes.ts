import { createGreeterClient, type GreeterSdkClient } from "../../generated/helloworld/helloworld_sdk.js";
import { type LoadResult, runLoad } from "../../harness/load.js";
import { BACKEND_HEADER } from "../../harness/reference/greeter.js";
import { pickFirst, pool, roundRobin, type Strategy } from "../../src/strategy.js";
import type { DemoCluster } from "./cluster.js";

/** Settings every scene reads. */
export interface SceneSettings {
  count: number;
  poolSize: number;
  concurrency: number;
  durationMs: number;
  maxAgeMs: number;
  /** Called with a one-line progress report while a scene runs. */
  progress: (line: string) => void;
}

/** A client whose calls count the backend that served each one (x-backend header). */
function countingClient(target: string, strategy: Strategy) {
  const client: GreeterSdkClient = createGreeterClient({ target, strategy });
  const served = new Map<string, number>();
  let ok = 0;
  const call = () =>
    client
      .sayHello(
        { name: "demo" },
        {
          onHeader: (header) => {
            const backend = header.get(BACKEND_HEADER) ?? "?";
            served.set(backend, (served.get(backend) ?? 0) + 1);
          },
        },
      )
      .then(() => void ok++);
  return { client, served, call, ok: () => ok };
}

async function warmUp(call: () => Promise<void>): Promise<void> {
  await runLoad(call, { concurrency: 20, durationMs: 2_000, maxCalls: 200 });
}

async function drive(
  settings: SceneSettings,
  label: string,
  call: () => Promise<void>,
  ok: () => number,
  options: { durationMs: number; stopWhen?: () => boolean; concurrency?: number },
): Promise<LoadResult> {
  const timer = setInterval(() => settings.progress(`${label}: ${ok()} calls…`), 250);
  try {
    return await runLoad(call, {
      concurrency: options.concurrency ?? settings.concurrency,
      durationMs: options.durationMs,
      ...(options.stopWhen ? { stopWhen: options.stopWhen } : {}),
    });
  } finally {
    clearInterval(timer);
    settings.progress("");
  }
}

const strategies = (size: number): [string, () => Strategy][] => [
  ["pickFirst()", pickFirst],
  ["roundRobin()", roundRobin],
  [`pool(${size})`, () => pool(size)],
];

// --- Scene 1: each strategy, via DNS and via the L4 proxy -------------------

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

export async function spreadScene(cluster: DemoCluster, settings: SceneSettings): Promise<SpreadResult[]> {
  const { count, poolSize } = settings;
  const backends = cluster.backends.slice(0, count);
  const results: SpreadResult[] = [];
  for (const path of ["DNS", "L4 proxy"] as const) {
    for (const [name, make] of strategies(poolSize)) {
      const { client, call, ok } = countingClient(path === "DNS" ? cluster.dnsTarget : cluster.proxy.address, make());
      try {
        await warmUp(call);
        await Promise.all(backends.map((b) => b.reset()));
        // Connections are counted early in the scene, before any can reach
        // max age and be replaced (which would count one connection twice).
        const early = new Promise<number>((resolve) =>
          setTimeout(
            async () =>
              resolve((await Promise.all(backends.map((b) => b.stats()))).reduce((n, s) => n + s.connections, 0)),
            CONNECTIONS_AT_MS,
          ),
        );
        const load = await drive(settings, `${name} via ${path}`, call, ok, { durationMs: settings.durationMs });
        const stats = await Promise.all(backends.map((b) => b.stats()));
        const total = stats.reduce((n, s) => n + s.calls, 0);
        const shares = stats.map((s) => (total === 0 ? 0 : s.calls / total));
        const connections = await early;
        const reached = shares.filter((s) => s > 0).length;
        const even = shares.every((s) => Math.abs(s - 1 / count) <= 0.1 / count);
        // What the README promises for each strategy and path.
        const [expected, holds] =
          path === "DNS"
            ? name === "pickFirst()"
              ? ["1 connection, 1 backend", connections === 1 && reached === 1]
              : name === "roundRobin()"
                ? [`${count} connections, even shares`, connections === count && even]
                : [
                    `${count * poolSize} connections, all backends`,
                    connections === count * poolSize && reached === count,
                  ]
            : name === `pool(${poolSize})`
              ? [
                  `${poolSize} connections, ${Math.min(poolSize, count)} backends`,
                  connections === poolSize && reached === Math.min(poolSize, count),
                ]
              : ["1 connection, 1 backend (one IP)", connections === 1 && reached === 1];
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

// --- Scene 2: scale out ----------------------------------------------------

export interface ScaleOutResult {
  strategy: string;
  /** ms from the DNS change to the new backend's first call; undefined if it got none. */
  servedAfterMs: number | undefined;
  failures: number;
  expected: string;
  ok: boolean;
}

export async function scaleOutScene(cluster: DemoCluster, settings: SceneSettings): Promise<ScaleOutResult[]> {
  const { count, maxAgeMs } = settings;
  const spare = cluster.backends[count]!;
  // grpc-js jitters max age by ±10%; the SDK re-resolves at most every 1 s.
  const promise = Math.round(maxAgeMs * 1.1) + 1_000;
  const results: ScaleOutResult[] = [];
  for (const [name, make] of strategies(settings.poolSize)) {
    cluster.setDnsBackends(count);
    const { client, served, call, ok } = countingClient(cluster.dnsTarget, make());
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

// --- Scene 3: crash --------------------------------------------------------

export interface CrashResult extends LoadResult {
  strategy: string;
  /** ms from the restart until the restarted backend served again; undefined if it did not. */
  backAfterMs: number | undefined;
  expected: string;
  ok: boolean;
}

export async function crashScene(cluster: DemoCluster, settings: SceneSettings): Promise<CrashResult[]> {
  const victim = cluster.backends[0]!;
  const results: CrashResult[] = [];
  for (const [name, make] of strategies(settings.poolSize)) {
    const { client, served, call, ok } = countingClient(cluster.dnsTarget, make());
    try {
      await warmUp(call);
      served.clear();
      let restartedAt: number | undefined;
      let backAt: number | undefined;
      const events = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        await victim.kill();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
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
