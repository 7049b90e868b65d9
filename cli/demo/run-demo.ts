import { bar, table } from "../../harness/table.js";
import { startCluster } from "./cluster.js";
import { crashScene, type SceneSettings, scaleOutScene, spreadScene } from "./scenes.js";

/** Options of the `demo` command. */
export interface DemoOptions {
  /** Backends in DNS and behind the proxy, on 127.0.0.1 … 127.0.0.N (a spare goes on N+1). */
  backends: number;
  /** Load per strategy in the first scene, ms. */
  durationMs: number;
  /** `n` of pool(n). */
  poolSize: number;
  concurrency: number;
  /** The backends' max connection age, ms. */
  maxAgeMs: number;
  json: boolean;
}

/** Runs the demo; resolves to true when every scene behaved as the README says. */
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
    progress: (line) => live && out.write(`\r\x1b[K${line ? `  ${line}` : ""}`),
  };
  const started = performance.now();
  const cluster = await startCluster({ count: options.backends, maxAgeMs: options.maxAgeMs, graceMs: 2_000 });
  try {
    log(
      `balanced-grpc demo: ${options.backends} Greeter backends (child processes) on ${cluster.backends
        .slice(0, options.backends)
        .map((b) => b.address)
        .join(", ")}`,
    );
    log(
      `  max connection age ${options.maxAgeMs} ms; DNS name ${cluster.dnsTarget}; single-IP L4 proxy on ${cluster.proxy.address}`,
    );
    log(`  spare backend for scale-out: ${cluster.backends.at(-1)!.address}\n`);

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
          ...hosts.map((h) => `${bar(r.shares[h]!)} ${(r.shares[h]! * 100).toFixed(0).padStart(3)}%`),
          r.expected,
          r.ok ? "yes" : "NO",
        ]),
      ),
    );

    log(`\n2. Scale out: ${cluster.backends.at(-1)!.host} is added to DNS while each strategy runs`);
    const scaleOut = await scaleOutScene(cluster, settings);
    log(
      table(
        ["strategy", "new backend served after", "fails", "expected", "ok"],
        scaleOut.map((r) => [
          r.strategy,
          r.servedAfterMs === undefined ? "not served" : `${r.servedAfterMs.toFixed(0)} ms`,
          String(r.failures),
          r.expected,
          r.ok ? "yes" : "NO",
        ]),
      ),
    );

    log(`\n3. Crash: ${cluster.backends[0]!.host} is killed (SIGKILL) under load, then restarted 1 s later`);
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
          r.ok ? "yes" : "NO",
        ]),
      ),
    );

    const ok = [...spread, ...scaleOut, ...crash].every((r) => r.ok);
    const seconds = (performance.now() - started) / 1000;
    log(
      `\n${ok ? "every scene behaved as the README says" : "some scenes did NOT behave as the README says (see the ok columns)"} (${seconds.toFixed(1)} s)`,
    );
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ demo: "balanced-grpc", ok, seconds, options, spread, scaleOut, crash })}\n`,
      );
    }
    return ok;
  } finally {
    await cluster.stop();
  }
}
