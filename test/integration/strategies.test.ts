import { type ClientOptions, pickFirst, pool, roundRobin } from "balanced-grpc";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createGreeterClient, type GreeterSdkClient } from "../../generated/helloworld/helloworld_sdk.js";
import { type InProcessBackends as Backends, startBackends } from "../../harness/backend-group.js";
import { runCalls } from "../../harness/load.js";
import { startTcpProxy, type TcpProxy } from "../../harness/tcp-proxy.js";

let backends: Backends;
let proxy: TcpProxy;
const clients: GreeterSdkClient[] = [];

beforeAll(async () => {
  backends = await startBackends(3);
  proxy = await startTcpProxy(backends.addresses);
});
afterAll(async () => {
  await proxy.close();
  await backends.shutdown();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  backends.reset();
});

/**
 * A client whose connections are all up: warmed, then the call counts reset.
 * The servers keep counting the distinct connections they saw.
 */
async function warmClient(options: ClientOptions): Promise<GreeterSdkClient> {
  const client = createGreeterClient(options);
  clients.push(client);
  await runCalls(200, 20, () => client.sayHello({ name: "warm-up" }));
  for (const backend of backends.list) backend.calls = 0;
  return client;
}

async function load(client: GreeterSdkClient, calls = 600): Promise<void> {
  const { failed } = await runCalls(calls, 20, () => client.sayHello({ name: "load" }));
  expect(failed).toEqual([]);
}

/** Shares within `tolerance` of the mean: exact turns give ±10%. */
function expectEvenShares(shares: number[], tolerance = 0.1): void {
  const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
  for (const share of shares) expect(Math.abs(share - mean)).toBeLessThanOrEqual(tolerance * mean);
}

describe("over 3 backends (127.0.0.1-3, one target)", () => {
  test("pickFirst: one connection to one backend", async () => {
    const client = await warmClient({ target: backends.target, strategy: pickFirst() });
    await load(client);
    expect(backends.totalPeers()).toBe(1);
    expect(backends.list.filter((b) => b.calls > 0)).toHaveLength(1);
    expect(backends.totalCalls()).toBe(600);
  });

  test("default strategy is pickFirst", async () => {
    const client = await warmClient({ target: backends.target });
    await load(client);
    expect(backends.totalPeers()).toBe(1);
    expect(client.$channel.stats()).toHaveLength(1);
  });

  test("roundRobin: one connection per backend, even shares", async () => {
    const client = await warmClient({ target: backends.target, strategy: roundRobin() });
    await load(client);
    expect(backends.list.map((b) => b.peers.size)).toEqual([1, 1, 1]);
    expectEvenShares(backends.shares());
  });

  test.each([
    ["pool(10)", { strategy: pool(10) }, "p2c"],
    ['{ strategy: "pool", size: 10 }', { strategy: "pool", size: 10 }, "p2c"],
    ['pool(10, { pick: "roundRobin" })', { strategy: pool(10, { pick: "roundRobin" }) }, "roundRobin"],
  ] as const)("%s: 30 distinct connections over all 3 backends", async (_name, strategy, pick) => {
    const client = await warmClient({ target: backends.target, ...strategy });
    await load(client, 1200);
    expect(backends.list.map((b) => b.peers.size)).toEqual([10, 10, 10]);
    // Round robin takes turns. p2c follows each connection's calls in flight and
    // latency; these backends run in this very process, so their latencies are
    // noisy and the shares even out only loosely (every backend 20-47%).
    expectEvenShares(backends.shares(), pick === "roundRobin" ? 0.1 : 0.4);
    // The client's own view: 30 connections, 10 to each backend, all used, none busy.
    const stats = client.$channel.stats();
    expect(stats).toHaveLength(30);
    for (const address of backends.addresses) expect(stats.filter((c) => c.address === address)).toHaveLength(10);
    expect(stats.every((c) => c.state === "READY" && c.completed > 0 && c.inFlight === 0)).toBe(true);
  });
});

describe("behind a single-IP L4 load balancer", () => {
  test("pickFirst reaches one backend", async () => {
    const client = await warmClient({ target: proxy.address, strategy: pickFirst() });
    await load(client);
    expect(backends.list.filter((b) => b.calls > 0)).toHaveLength(1);
  });

  test("pool(10) reaches all 3 backends", async () => {
    const client = await warmClient({ target: proxy.address, strategy: pool(10) });
    await load(client, 1200);
    // The proxy deals connections round-robin: 10 connections → 4/3/3.
    expect(backends.totalPeers()).toBe(10);
    // p2c is least-loaded, not even (its shares here ran 14–47%): it promises every backend is served.
    for (const backend of backends.list) expect(backend.calls).toBeGreaterThan(0);
  });

  test('pool(10, { pick: "roundRobin" }) spreads by connections: 4/3/3 of them, so 40/30/30% of the calls', async () => {
    const client = await warmClient({ target: proxy.address, strategy: pool(10, { pick: "roundRobin" }) });
    await load(client, 1200);
    expect(backends.totalPeers()).toBe(10);
    expect(backends.shares().sort()).toEqual([expect.closeTo(0.3, 1), expect.closeTo(0.3, 1), expect.closeTo(0.4, 1)]);
    for (const share of backends.shares()) expect(share).toBeGreaterThanOrEqual(0.27);
  });
});
