import { setTimeout as delay } from "node:timers/promises";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { runLoad } from "../../harness/load.js";
import { backendOf } from "../../harness/reference/greeter.js";
import { spawnSignalledBackends } from "../../harness/signalled-backend.js";
import type { DemoCluster } from "./cluster.js";
import type { SceneSettings } from "./scene-kit.js";

/** How long each phase of the NOT_SERVING part lasts, ms; shares count from {@link SETTLE_MS} into it. */
const PHASE_MS = 900;
/** The client has this long to follow a change before its phase is counted, ms (issue 24's goal: 300). */
const SETTLE_MS = 300;
/** The signalled servers' drain: NOT_SERVING for 300 ms, then GOAWAY; 5 s for calls in flight. */
const DRAIN = { delayMs: 300, timeoutMs: 5_000 };

export interface NotServingResult {
  strategy: string;
  /** The backend told setServing(false). */
  host: string;
  /** Each backend's share of the calls started in each phase (from {@link SETTLE_MS} into it). */
  before: Record<string, number>;
  during: Record<string, number>;
  after: Record<string, number>;
  calls: number;
  failures: number;
  expected: string;
  ok: boolean;
}

export interface RollingRestartResult {
  strategy: string;
  calls: number;
  failures: number;
  /** Each server's exit code and ms from SIGTERM to its exit, in restart order. */
  exits: { host: string; code: number | null; tookMs: number }[];
  expected: string;
  ok: boolean;
}

export interface HealthResult {
  notServing: NotServingResult;
  rollingRestart: RollingRestartResult;
}

/**
 * Scene 8: health and drain. First one backend in DNS says NOT_SERVING on
 * grpc.health.v1 for a moment under load, then SERVING again: a
 * `roundRobin()` client follows its Watch on each connection (shares before,
 * during, after). Then three `startServer({ handleSignals: true })` processes
 * are restarted one by one with SIGTERM (a rolling deploy) while the client
 * keeps calls in flight that are never retried: each drains (NOT_SERVING,
 * GOAWAY, its calls finish) and exits 0, and no call fails.
 */
export async function healthScene(cluster: DemoCluster, settings: SceneSettings): Promise<HealthResult> {
  return { notServing: await notServing(cluster, settings), rollingRestart: await rollingRestart(settings) };
}

async function notServing(cluster: DemoCluster, settings: SceneSettings): Promise<NotServingResult> {
  const backends = cluster.aged.slice(0, settings.count);
  const hosts = backends.map((b) => b.host);
  const target = backends[0]!;
  const client = createGreeterClient({ target: cluster.dnsTarget, strategy: "roundRobin", retry: false });
  const calls: { at: number; backend: string }[] = [];
  let stop = false;
  try {
    const load = runLoad(
      async () => {
        const at = performance.now();
        let backend = "?";
        await client.sayHello({ name: "demo" }, { onHeader: (header) => (backend = backendOf(header) ?? "?") });
        calls.push({ at, backend });
      },
      { concurrency: settings.concurrency, durationMs: 8_000, maxCalls: 500_000, stopWhen: () => stop },
    );
    const phase = async (label: string, change?: () => Promise<void>) => {
      await change?.();
      const from = performance.now() + SETTLE_MS;
      settings.progress(`health: ${label}`);
      await delay(PHASE_MS);
      const to = performance.now();
      const counted = calls.filter((c) => c.at >= from && c.at < to);
      const share = (host: string) => counted.filter((c) => c.backend === host).length / Math.max(1, counted.length);
      return Object.fromEntries(hosts.map((h) => [h, share(h)]));
    };
    const before = await phase("all serving");
    const during = await phase(`${target.host} NOT_SERVING`, () => target.setServing(false));
    const after = await phase(`${target.host} SERVING again`, () => target.setServing(true));
    stop = true;
    const result = await load;
    settings.progress("");
    return {
      strategy: "roundRobin()",
      host: target.host,
      before,
      during,
      after,
      calls: result.calls,
      failures: result.failures,
      expected: `0 failures; ${target.host} < 1% while NOT_SERVING, ≥ 20% after`,
      ok: result.failures === 0 && during[target.host]! < 0.01 && after[target.host]! >= 0.2,
    };
  } finally {
    stop = true;
    await target.setServing(true);
    client.close();
  }
}

async function rollingRestart(settings: SceneSettings): Promise<RollingRestartResult> {
  settings.progress("rolling restart: starting 3 servers");
  const group = await spawnSignalledBackends(3, { slowMs: 5, drain: DRAIN }, { prepare: true });
  const client = createGreeterClient({ target: group.target, strategy: "roundRobin", retry: false });
  const exits: RollingRestartResult["exits"] = [];
  let done = false;
  try {
    await client.sayHello({ name: "warm-up" });
    const load = runLoad(() => client.sayHello({ name: "deploy" }), {
      concurrency: settings.concurrency,
      durationMs: 30_000,
      maxCalls: 1_000_000,
      stopWhen: () => done,
    });
    try {
      for (const backend of group.list) {
        settings.progress(`rolling restart: SIGTERM to ${backend.host}`);
        const exit = await backend.terminate();
        exits.push({ host: backend.host, code: exit.code, tookMs: Math.round(exit.tookMs) });
        await backend.start();
        await delay(200); // the client connects to it again (an orchestrator waits for readiness)
      }
    } finally {
      done = true;
    }
    const result = await load;
    return {
      strategy: "roundRobin()",
      calls: result.calls,
      failures: result.failures,
      exits,
      expected: "0 failures (never retried); each server exits 0",
      ok:
        result.failures === 0 &&
        exits.length === 3 &&
        exits.every((e) => e.code === 0 && e.tookMs < DRAIN.delayMs + DRAIN.timeoutMs),
    };
  } finally {
    done = true;
    settings.progress("");
    client.close();
    await Promise.all(group.list.map((b) => b.kill()));
  }
}
