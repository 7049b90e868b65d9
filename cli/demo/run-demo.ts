import { bar, table } from "../../harness/table.js";
import { startCluster } from "./cluster.js";
import { crashScene } from "./crash.js";
import { failingBackendScene } from "./failing-backend.js";
import { healthScene } from "./health.js";
import { l4ScaleOutScene } from "./l4-scale-out.js";
import { scaleOutScene } from "./scale-out.js";
import type { SceneSettings } from "./scene-kit.js";
import { SLOW_MS, slowBackendScene } from "./slow-backend.js";
import { spreadScene } from "./spread.js";
import { LONG_CALL_MS, LONG_CALLS, STREAM_LIMIT, streamLimitScene } from "./stream-limit.js";

/** Options of the `demo` command. */
export interface DemoOptions {
  /** Backends in DNS and behind the proxy, on 127.0.0.1 … 127.0.0.N. */
  backends: number;
  /** Load per strategy in the spread and slow-backend scenes, ms. */
  durationMs: number;
  /** `n` of pool(n). */
  poolSize: number;
  concurrency: number;
  /** The aged backends' max connection age, ms. */
  maxAgeMs: number;
  /** The client max connection age of the L4 scale-out scene, ms. */
  clientMaxAgeMs: number;
  json: boolean;
}

const percent = (share: number) => `${bar(share)} ${(share * 100).toFixed(0).padStart(3)}%`;
const yes = (ok: boolean) => (ok ? "yes" : "NO");

/** Runs the demo; resolves to true when every scene behaved as the README says (its quick start; docs/demo.md has a run). */
export async function runDemo(options: DemoOptions): Promise<boolean> {
  const out = options.json ? process.stderr : process.stdout;
  const log = (line = "") => out.write(`${line}\n`);
  const live = out.isTTY === true;
  const settings: SceneSettings = {
    count: options.backends,
    poolSize: options.poolSize,
    concurrency: options.concurrency,
    durationMs: options.durationMs,
    maxAgeMs: options.maxAgeMs,
    clientMaxAgeMs: options.clientMaxAgeMs,
    progress: (line) => live && out.write(`\r\x1b[K${line ? `  ${line}` : ""}`),
  };
  const started = performance.now();
  const cluster = await startCluster({ count: options.backends, maxAgeMs: options.maxAgeMs, graceMs: 2_000 });
  const { count } = settings;
  try {
    const inDns = cluster.aged.slice(0, count);
    log(`balanced-grpc demo: Greeter backends as child processes`);
    log(`  ${inDns.map((b) => b.address).join(", ")}: max connection age ${options.maxAgeMs} ms`);
    log(`    DNS name ${cluster.dnsTarget}; L4 proxy ${cluster.proxy.address}; spare ${cluster.aged[count]!.address}`);
    log(
      `  ${cluster.plain
        .slice(0, count)
        .map((b) => b.address)
        .join(", ")}: no max age (not our servers)`,
    );
    log(`    L4 proxy ${cluster.plainProxy.address}; spare ${cluster.plain[count]!.address}\n`);

    log(`1. Spread: ${options.durationMs} ms of SayHello per strategy at concurrency ${options.concurrency}`);
    const spread = await spreadScene(cluster, settings);
    const hosts = Object.keys(spread[0]!.shares);
    log(
      table(
        ["strategy", "path", "conns", "calls/s", "p50 ms", "p99 ms", "fails", ...hosts, "expected", "ok"],
        spread.map((r) => [
          r.strategy,
          r.path,
          String(r.connections),
          r.callsPerSecond.toFixed(0),
          r.p50Ms.toFixed(2),
          r.p99Ms.toFixed(2),
          String(r.failures),
          ...hosts.map((h) => percent(r.shares[h]!)),
          r.expected,
          yes(r.ok),
        ]),
      ),
    );

    log(`\n2. Scale out: ${cluster.aged[count]!.host} is added to DNS while each strategy runs`);
    const scaleOut = await scaleOutScene(cluster, settings);
    log(
      table(
        ["strategy", "new backend served after", "fails", "expected", "ok"],
        scaleOut.map((r) => [
          r.strategy,
          r.servedAfterMs === undefined ? "not served" : `${r.servedAfterMs.toFixed(0)} ms`,
          String(r.failures),
          r.expected,
          yes(r.ok),
        ]),
      ),
    );

    log(`\n3. Crash: ${cluster.aged[0]!.host} is killed (SIGKILL) under load, then restarted 1 s later`);
    const crash = await crashScene(cluster, settings);
    log(
      table(
        ["strategy", "calls", "fails", "calls/s", "restarted backend used again after", "expected", "ok"],
        crash.map((r) => [
          r.strategy,
          String(r.calls),
          String(r.failures),
          r.callsPerSecond.toFixed(0),
          r.backAfterMs === undefined ? "not used (stays on the next address)" : `${r.backAfterMs.toFixed(0)} ms`,
          r.expected,
          yes(r.ok),
        ]),
      ),
    );

    const slowHost = inDns[count - 1]!.host;
    log(`\n4. Slow backend: ${slowHost} answers ${SLOW_MS} ms late; via DNS at concurrency ${options.concurrency}`);
    const slow = await slowBackendScene(cluster, settings);
    log(
      table(
        ["strategy", "calls/s", "p99 ms", "fails", ...hosts, `p99 ms on ${slowHost}`, "expected", "ok"],
        slow.map((r) => [
          r.strategy,
          r.callsPerSecond.toFixed(0),
          r.p99Ms.toFixed(1),
          String(r.failures),
          ...hosts.map((h) => percent(r.shares[h]!)),
          r.p99ByBackend[slowHost]!.toFixed(1),
          r.expected,
          yes(r.ok),
        ]),
      ),
    );

    log(
      `\n5. Scale out behind the L4 proxy, servers without max age: ${cluster.plain[count]!.host} is added behind it`,
    );
    const l4 = await l4ScaleOutScene(cluster, settings);
    log(
      table(
        ["client", "new backend served after", "its share after", "fails", "expected", "ok"],
        l4.map((r) => [
          r.strategy,
          r.servedAfterMs === undefined ? "not served" : `${r.servedAfterMs.toFixed(0)} ms`,
          r.servedAfterMs === undefined ? "-" : percent(r.newShare),
          String(r.failures),
          r.expected,
          yes(r.ok),
        ]),
      ),
    );
    log(
      `   (client connections recycle every ~${options.clientMaxAgeMs} ms ±10%, one at a time, each ready before the old one drains)`,
    );

    log(
      `\n6. Stream limit: one server allows ${STREAM_LIMIT} streams per connection; ${LONG_CALLS} calls of ${LONG_CALL_MS} ms start at once`,
    );
    const streamLimit = await streamLimitScene(settings);
    log(
      table(
        [
          "client",
          "last call ends",
          "fails",
          "most running at once",
          "connections over time (ms: n)",
          "expected",
          "ok",
        ],
        streamLimit.map((r) => [
          r.strategy,
          `${r.lastEndsMs} ms`,
          String(r.failures),
          String(r.peakRunning),
          r.sizes.map(([t, n]) => `${t}: ${n}`).join(", "),
          r.expected,
          yes(r.ok),
        ]),
      ),
    );

    log(`\n7. A bad deploy: ${inDns[0]!.host} answers UNAVAILABLE at once to every call; via DNS`);
    const failing = await failingBackendScene(cluster, settings);
    log(
      table(
        ["client", "calls/s", "fails", "attempts/call", "failing backend's share", "expected", "ok"],
        failing.map((r) => [
          r.client,
          r.callsPerSecond.toFixed(0),
          String(r.failures),
          r.attemptsPerCall.toFixed(2),
          percent(r.failingShare),
          r.expected,
          yes(r.ok),
        ]),
      ),
    );

    log(
      `\n8. Health and drain: ${inDns[0]!.host} says NOT_SERVING on grpc.health.v1, then SERVING; then 3 servers with handleSignals restarted one by one by SIGTERM`,
    );
    const health = await healthScene(cluster, settings);
    const { notServing, rollingRestart } = health;
    const phases = ["before", "during", "after"] as const;
    log(
      table(
        ["client", "phase", ...hosts, "fails", "expected", "ok"],
        phases.map((phase, i) => [
          i === 0 ? notServing.strategy : "",
          phase === "during" ? `${notServing.host} NOT_SERVING` : phase === "before" ? "all serving" : "SERVING again",
          ...hosts.map((h) => percent(notServing[phase][h] ?? 0)),
          i === 0 ? String(notServing.failures) : "",
          i === 0 ? notServing.expected : "",
          i === 0 ? yes(notServing.ok) : "",
        ]),
      ),
    );
    log(
      table(
        ["client", "calls", "fails", "exits (code, ms after SIGTERM)", "expected", "ok"],
        [
          [
            rollingRestart.strategy,
            String(rollingRestart.calls),
            String(rollingRestart.failures),
            rollingRestart.exits.map((e) => `${e.host}: ${e.code}, ${e.tookMs}`).join("; "),
            rollingRestart.expected,
            yes(rollingRestart.ok),
          ],
        ],
      ),
    );

    const ok =
      [...spread, ...scaleOut, ...crash, ...slow, ...l4, ...streamLimit, ...failing].every((r) => r.ok) &&
      notServing.ok &&
      rollingRestart.ok;
    const seconds = (performance.now() - started) / 1000;
    log(
      `\n${ok ? "every scene behaved as the README says" : "some scenes did NOT behave as the README says (see the ok columns)"} (${seconds.toFixed(1)} s)`,
    );
    if (options.json) {
      const result = {
        demo: "balanced-grpc",
        ok,
        seconds,
        options,
        spread,
        scaleOut,
        crash,
        slow,
        l4ScaleOut: l4,
        streamLimit,
        failing,
        health,
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
    }
    return ok;
  } finally {
    await cluster.stop();
  }
}
