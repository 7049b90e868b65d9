import { setTimeout as delay } from "node:timers/promises";
import { type ClientOptions, pickFirst, pool, roundRobin } from "balanced-grpc";
import { afterEach, describe, expect, test } from "vitest";
import { createGreeterClient, type GreeterSdkClient } from "../../generated/helloworld/helloworld_sdk.js";
import { type Backend, startBackend } from "../../harness/backend.js";

import { freePort, type InProcessBackends, startBackends } from "../../harness/backend-group.js";
import { runCalls } from "../../harness/load.js";

// Servers that advertise a stream limit (grpc.max_concurrent_streams): the
// adaptive pool opens connections so calls run instead of waiting inside
// HTTP/2; counted on the servers (handlers running at once, distinct peers).

const opened: { backends: InProcessBackends; clients: GreeterSdkClient[] }[] = [];
afterEach(async () => {
  for (const { backends, clients } of opened.splice(0)) {
    for (const client of clients) client.close();
    await backends.shutdown();
  }
});

async function setup(count: number, maxConcurrentStreams: number, slowMs = 0) {
  const backends = await startBackends(count, { maxConcurrentStreams, slowMs });
  const clients: GreeterSdkClient[] = [];
  opened.push({ backends, clients });
  const client = (options: Omit<ClientOptions, "target">) => {
    const made = createGreeterClient({ target: backends.target, retry: false, ...options } as ClientOptions);
    clients.push(made);
    return made;
  };
  return { backends, client };
}

/** Waits, bounded, until `done()`; returns whether it came true. */
async function until(done: () => boolean, ms = 10_000): Promise<boolean> {
  for (const end = performance.now() + ms; !done() && performance.now() < end; ) await delay(10);
  return done();
}

/** Calls that each stay open on the server until `release()`. */
function holdCalls(backends: InProcessBackends) {
  let release: () => void = () => {};
  const hold = new Promise<void>((resolve) => (release = resolve));
  for (const backend of backends.list) backend.knobs.hold = hold;
  return () => {
    for (const backend of backends.list) backend.knobs.hold = undefined;
    release();
  };
}

describe("servers that allow 10 streams per connection, 150 calls in flight over 3", () => {
  test("pool() learns the limit and opens more than one connection per backend: more than 10 run at once on each", async () => {
    const { backends, client } = await setup(3, 10, 20);
    const sdk = client({ strategy: pool() });
    const { failed } = await runCalls(900, 150, () => sdk.sayHello({ name: "load" }));
    expect(failed).toEqual([]);
    for (const backend of backends.list) {
      expect(backend.peers.size).toBeGreaterThan(1);
      expect(backend.peakRunning).toBeGreaterThan(10);
    }
    const stats = sdk.$channel.stats();
    expect(stats.every((c) => c.streamLimit === 10 && c.streamLimitSource === "server")).toBe(true);
    expect(Math.max(...stats.map((c) => c.poolSize))).toBeGreaterThan(1);
  });

  test("control: roundRobin() keeps one connection per backend, so at most 10 run at once on each", async () => {
    const { backends, client } = await setup(3, 10, 20);
    const sdk = client({ strategy: roundRobin() });
    const { failed } = await runCalls(450, 150, () => sdk.sayHello({ name: "load" }));
    expect(failed).toEqual([]);
    for (const backend of backends.list) {
      expect(backend.peers.size).toBe(1);
      expect(backend.peakRunning).toBeLessThanOrEqual(10);
    }
  });
});

// Each connection's health Watch (on by default) holds one of the server's 20
// streams: 19 calls fit on a connection, 57 on three.
describe("one server that allows 20 streams, 57 calls held open at once", () => {
  const held = async (backends: InProcessBackends, sdk: GreeterSdkClient) => {
    const release = holdCalls(backends);
    const calls = Array.from({ length: 57 }, (_, i) =>
      sdk.sayHello({ name: `held ${i}` }).then(
        () => "ok",
        (error: unknown) => error,
      ),
    );
    return { release, calls, server: backends.list[0] as Backend };
  };

  test("pool({ idleMs: 300 }): all 57 run at once on 3 connections (19 calls and the Watch each); once released and idle, it shrinks back to 1", async () => {
    const { backends, client } = await setup(1, 20);
    const sdk = client({ strategy: pool({ idleMs: 300 }) });
    await sdk.sayHello({ name: "warm-up" });
    expect(await until(() => sdk.$channel.stats()[0]?.streamLimitSource === "server")).toBe(true);
    const { release, calls, server } = await held(backends, sdk);
    expect(await until(() => server.running === 57)).toBe(true);
    const during = sdk.$channel.stats();
    expect(during.filter((c) => c.role === "serving")).toHaveLength(3);
    expect(during.map((c) => c.inFlight)).toEqual([19, 19, 19]);
    expect(server.peers.size).toBe(3);
    release();
    expect(await Promise.all(calls)).toEqual(Array(57).fill("ok"));
    expect(await until(() => sdk.$channel.stats().length === 1)).toBe(true);
    expect(sdk.$channel.stats()[0]).toMatchObject({ poolSize: 1, role: "serving", state: "READY" });
  });

  test("control: pickFirst() runs 19 at a time (its Watch holds the 20th stream); the other 38 wait inside HTTP/2", async () => {
    const { backends, client } = await setup(1, 20);
    const sdk = client({ strategy: pickFirst() });
    await sdk.sayHello({ name: "warm-up" });
    const { release, calls, server } = await held(backends, sdk);
    expect(await until(() => server.running === 19)).toBe(true);
    await delay(300);
    expect(server.running).toBe(19);
    release();
    expect(await Promise.all(calls)).toEqual(Array(57).fill("ok"));
    expect(server.peakRunning).toBe(19);
  });
});

describe("a server that starts after its client, and restarts with another limit", () => {
  test("pool() learns the limit once the server listens, and learns it again after the restart", async () => {
    const address = `127.0.0.1:${await freePort("127.0.0.1")}`;
    const sdk = createGreeterClient({ target: address, strategy: pool(), retry: false });
    const limitOf = () => sdk.$channel.stats().find((c) => c.role === "serving");
    try {
      // Calls wait for the server, which is not there yet.
      const early = sdk.sayHello({ name: "early" }, { waitForReady: true, deadline: 20_000 });
      await delay(300);
      let server = await startBackend({ address, maxConcurrentStreams: 10, slowMs: 20 });
      await early;
      expect(await until(() => limitOf()?.streamLimitSource === "server")).toBe(true);
      expect(limitOf()?.streamLimit).toBe(10);
      // 60 in flight at a limit of 10: the pool grows past one connection.
      const { failed } = await runCalls(300, 60, () => sdk.sayHello({ name: "load" }));
      expect(failed).toEqual([]);
      expect(server.peers.size).toBeGreaterThan(1);

      await server.shutdown();
      server = await startBackend({ address, maxConcurrentStreams: 5 });
      try {
        await sdk.sayHello({ name: "after the restart" }, { waitForReady: true, deadline: 20_000 });
        // Probes of one address start at most every 5 s: the new limit comes within that.
        expect(await until(() => limitOf()?.streamLimit === 5, 15_000)).toBe(true);
        expect(sdk.$channel.stats().every((c) => c.streamLimit === 5)).toBe(true);
      } finally {
        await server.shutdown();
      }
    } finally {
      await sdk.close({ graceMs: 0 });
    }
  });
});
