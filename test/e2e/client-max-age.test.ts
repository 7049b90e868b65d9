import { type ConnectionStats, pool } from "balanced-grpc";
import { afterEach, expect, test } from "vitest";
import { spawnBackends } from "../../harness/backend-group.js";
import type { BackendProcess } from "../../harness/backend-process.js";
import { countingClient } from "../../harness/counting-client.js";
import { runLoad } from "../../harness/load.js";
import { startTcpProxy, type TcpProxy } from "../../harness/tcp-proxy.js";

// Servers that set no max connection age (not ours), behind a single-IP L4
// balancer; a 4th backend is added behind it while a pool(8) runs under load.
// Only the client's own maxConnectionAge can move connections onto it.

const AGE = 2_000;
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function cluster(): Promise<{ backends: BackendProcess[]; proxy: TcpProxy }> {
  const group = await spawnBackends(4);
  cleanup.push(async () => void (await Promise.all(group.list.map((b) => b.kill()))));
  const proxy = await startTcpProxy(group.addresses.slice(0, 3));
  cleanup.push(() => proxy.close());
  return { backends: group.list, proxy };
}

test("with maxConnectionAge, a backend added behind the L4 balancer gets calls within ~2× the age, and none fails", async () => {
  const { backends, proxy } = await cluster();
  const added = backends[3]!.host;
  const client = countingClient({ target: proxy.address, strategy: pool(8), maxConnectionAge: AGE, retry: false });
  cleanup.push(async () => client.client.close());
  await runLoad(client.call, { concurrency: 20, durationMs: 1_000 });

  // While it runs: every sample of stats() has all 8 connections serving and
  // ready (a replacement is ready before the old one stops), and at most one
  // connection recycling at a time.
  const samples: ConnectionStats[][] = [];
  const sampler = setInterval(() => samples.push(client.client.$channel.stats()), 20);
  proxy.setBackends(backends.map((b) => b.address));
  const addedAt = performance.now();
  let firstAt: number | undefined;
  let windowStart: number | undefined;
  const window = new Map<string, number>();
  const result = await runLoad(
    async () => {
      await client.call();
    },
    {
      concurrency: 20,
      durationMs: 8 * AGE,
      onEnd: () => {
        const now = performance.now();
        if (firstAt === undefined && (client.served.get(added) ?? 0) > 0) firstAt = now;
        // Once every connection has had time to recycle (age + 10% + slack), look at the shares.
        if (windowStart === undefined && now - addedAt > 2 * AGE + 1_000) {
          windowStart = now;
          for (const [host, n] of client.served) window.set(host, n);
        }
      },
      stopWhen: () => windowStart !== undefined && performance.now() - windowStart > 2_000,
    },
  );
  clearInterval(sampler);
  const recent = new Map([...client.served].map(([host, n]) => [host, n - (window.get(host) ?? 0)]));
  const total = [...recent.values()].reduce((a, b) => a + b, 0);
  const shares = backends.map((b) => (recent.get(b.host) ?? 0) / total);
  console.log(
    `new backend first served ${firstAt === undefined ? "never" : `${(firstAt - addedAt).toFixed(0)} ms`} after it was added; ` +
      `shares then ${shares.map((s) => `${(s * 100).toFixed(0)}%`).join("/")}; ${result.calls} calls, ${result.failures} failed`,
  );
  expect(result.failures).toBe(0);
  expect(firstAt).toBeDefined();
  expect(firstAt! - addedAt).toBeLessThan(3 * AGE); // the promise is ~2× the age
  for (const share of shares) expect(share).toBeGreaterThan(0.1); // fair is 25%
  expect(samples.length).toBeGreaterThan(10);
  for (const stats of samples) {
    expect(stats.filter((c) => c.role === "serving" && c.state === "READY")).toHaveLength(8);
    expect(stats.filter((c) => c.role === "replacement").length).toBeLessThanOrEqual(1);
  }
  // Connections were replaced: some draining ones were seen on the way.
  expect(samples.some((stats) => stats.some((c) => c.role === "draining" || c.role === "replacement"))).toBe(true);
});

test("without it, the added backend gets nothing: the test can tell", async () => {
  const { backends, proxy } = await cluster();
  const client = countingClient({ target: proxy.address, strategy: pool(8), retry: false });
  cleanup.push(async () => client.client.close());
  await runLoad(client.call, { concurrency: 20, durationMs: 1_000 });
  proxy.setBackends(backends.map((b) => b.address));
  const result = await runLoad(client.call, { concurrency: 20, durationMs: 2 * AGE }); // the time it takes with the option
  expect(result.failures).toBe(0);
  expect(client.served.get(backends[3]!.host) ?? 0).toBe(0);
});
