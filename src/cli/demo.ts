import { createGreeterClient, type GreeterSdkClient } from "../../generated/helloworld/helloworld_sdk.js";
import { greeterService } from "../reference/greeter.js";
import { startServer, type RunningServer } from "../server.js";
import { pickFirst, pool, roundRobin, type Strategy } from "../strategy.js";
import { startTcpProxy } from "../dev/tcp-proxy.js";
import { runLoad, type LoadResult } from "./load.js";
import { bar, table } from "./table.js";

/** Options of the `demo` command. */
export interface DemoOptions {
  /** Backends, on 127.0.0.1 … 127.0.0.N. */
  backends: number;
  /** How long each scene's load runs, ms. */
  durationMs: number;
  /** `n` of pool(n). */
  poolSize: number;
  concurrency: number;
  json: boolean;
}

interface Backend {
  name: string;
  server: RunningServer;
  calls: number;
  peers: Set<string>;
}

interface SceneResult extends LoadResult {
  strategy: string;
  path: string;
  connections: number;
  shares: Record<string, number>;
  expectation: string;
  ok: boolean;
}

interface Scene {
  strategy: string;
  make: () => Strategy;
  path: "addresses" | "L4 proxy";
  /** What the README promises for this scene; checked, and the exit code says. */
  expectation: string;
  check: (shares: number[], connections: number, result: LoadResult) => boolean;
}

/** Runs the demo; resolves to true when every scene behaved as promised. */
export async function runDemo(options: DemoOptions): Promise<boolean> {
  const { backends: count, poolSize, concurrency, durationMs } = options;
  const log = (line: string) => (options.json ? process.stderr : process.stdout).write(line + "\n");
  const backends = await startBackends(count);
  const target = `ipv4:${backends.map((b) => b.server.address).join(",")}`;
  const proxy = await startTcpProxy(backends.map((b) => b.server.address));
  const even = (shares: number[]) => shares.every((s) => Math.abs(s - 1 / count) <= 0.1 / count);
  const scenes: Scene[] = [
    { strategy: "pickFirst()", make: pickFirst, path: "addresses", expectation: "1 connection, 1 backend",
      check: (s, c) => c === 1 && s.filter((x) => x > 0).length === 1 },
    { strategy: "roundRobin()", make: roundRobin, path: "addresses", expectation: `${count} connections, even shares`,
      check: (s, c) => c === count && even(s) },
    { strategy: `pool(${poolSize})`, make: () => pool(poolSize), path: "addresses", expectation: `${count * poolSize} connections, all backends`,
      check: (s, c) => c === count * poolSize && s.every((x) => x > 0) },
    { strategy: "pickFirst()", make: pickFirst, path: "L4 proxy", expectation: "1 backend",
      check: (s) => s.filter((x) => x > 0).length === 1 },
    { strategy: `pool(${poolSize})`, make: () => pool(poolSize), path: "L4 proxy", expectation: "all backends",
      check: (s, c) => c === poolSize && (poolSize < count || s.every((x) => x > 0)) },
  ];
  log(`balanced-grpc demo: ${count} Greeter backends on ${backends.map((b) => b.server.address).join(", ")}; L4 proxy on ${proxy.address}`);
  log(`each scene: ${durationMs} ms of SayHello at concurrency ${concurrency}\n`);
  const results: SceneResult[] = [];
  try {
    for (const scene of scenes) {
      const client = createGreeterClient({ target: scene.path === "L4 proxy" ? proxy.address : target, strategy: scene.make() });
      try {
        await warmUp(client);
        for (const b of backends) (b.calls = 0), b.peers.clear();
        const progress = setInterval(() => {
          if (process.stdout.isTTY && !options.json) process.stdout.write(`\r  ${scene.strategy} via ${scene.path}: ${total(backends)} calls…`);
        }, 250);
        const result = await runLoad(() => client.sayHello({ name: "demo" }), { concurrency, durationMs }).finally(() => clearInterval(progress));
        if (process.stdout.isTTY && !options.json) process.stdout.write("\r\x1b[K");
        const sum = total(backends);
        const shares = backends.map((b) => (sum === 0 ? 0 : b.calls / sum));
        const connections = backends.reduce((n, b) => n + b.peers.size, 0);
        results.push({
          ...result,
          strategy: scene.strategy,
          path: scene.path,
          connections,
          shares: Object.fromEntries(backends.map((b, i) => [b.name, shares[i]!])),
          expectation: scene.expectation,
          ok: result.failures === 0 && scene.check(shares, connections, result),
        });
      } finally {
        client.close();
      }
    }
  } finally {
    await proxy.close();
    await Promise.all(backends.map((b) => b.server.shutdown({ timeout: 1000 })));
  }
  log(
    table(
      ["strategy", "path", "conns", "calls/s", "p50 ms", "p99 ms", "fails", ...backends.map((b) => b.name), "expected", "ok"],
      results.map((r) => [
        r.strategy, r.path, String(r.connections), r.callsPerSecond.toFixed(0), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), String(r.failures),
        ...Object.values(r.shares).map((s) => `${bar(s)} ${(s * 100).toFixed(0).padStart(3)}%`), r.expectation, r.ok ? "yes" : "NO",
      ]),
    ),
  );
  const ok = results.every((r) => r.ok);
  if (options.json) process.stdout.write(JSON.stringify({ demo: "balanced-grpc", ok, scenes: results }) + "\n");
  log(ok ? "\nevery scene behaved as expected" : "\nsome scenes did NOT behave as expected (see the ok column)");
  return ok;
}

async function startBackends(count: number): Promise<Backend[]> {
  const backends: Backend[] = [];
  let port = 0;
  for (let i = 1; i <= count; i++) {
    const name = `127.0.0.${i}`;
    const backend = { name, calls: 0, peers: new Set<string>() } as Backend;
    backend.server = await startServer({
      address: `${name}:${port}`,
      services: [greeterService({ backend: name, onCall: (c) => (backend.calls++, backend.peers.add(c.peer)) })],
    });
    port = backend.server.port;
    backends.push(backend);
  }
  return backends;
}

async function warmUp(client: GreeterSdkClient): Promise<void> {
  await runLoad(() => client.sayHello({ name: "warm-up" }), { concurrency: 20, durationMs: 2000, maxCalls: 300 });
}

const total = (backends: Backend[]) => backends.reduce((n, b) => n + b.calls, 0);
