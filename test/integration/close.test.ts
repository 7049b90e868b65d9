import { spawn } from "node:child_process";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { credentials } from "@grpc/grpc-js";
import {
  ClientClosedError,
  ClientError,
  connectivityState,
  createBalancedChannel,
  pool,
  type RunningServer,
  Status,
  service,
  startServer,
} from "balanced-grpc";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GreeterDefinition, HelloReply, HelloRequest } from "../../generated/helloworld/helloworld.js";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { type Backend, startBackend } from "../../harness/backend.js";
import { freePort } from "../../harness/backend-group.js";
import { routeGuideService } from "../../harness/reference/route-guide.js";
import { strategies } from "../../harness/strategies.js";
import { startTcpProxy } from "../../harness/tcp-proxy.js";

let slow: RunningServer;
let fast: RunningServer;
let arrived: () => void = () => {};

beforeAll(async () => {
  slow = await startServer({
    services: [
      service(GreeterDefinition, {
        async sayHello(request) {
          arrived();
          await delay(300);
          return { message: `Hello ${request.name}` };
        },
      }),
    ],
  });
  fast = await startServer({
    address: "127.0.0.1:0",
    services: [
      service(GreeterDefinition, { sayHello: async (r) => ({ message: `Hello ${r.name}` }) }),
      routeGuideService(),
    ],
  });
});
afterAll(async () => {
  await slow.shutdown();
  await fast.shutdown();
});

describe.each(strategies(3))("close() with %s", (_name, strategy) => {
  test("a call already on the server finishes", async () => {
    const client = createGreeterClient({ target: slow.address, strategy });
    const onServer = new Promise<void>((resolve) => (arrived = resolve));
    const call = client.sayHello({ name: "in flight" });
    await onServer;
    client.close();
    await expect(call).resolves.toEqual({ message: "Hello in flight" });
  });

  test("calls not yet sent end with CANCELLED; later calls reject at once", async () => {
    const client = createGreeterClient({ target: fast.address, strategy });
    const pending = Array.from({ length: 5 }, () => client.sayHello({ name: "queued" }));
    client.close();
    // Sent before close() or not: each either completes or is CANCELLED
    // (a ClientError from grpc-js's queue, or ClientClosedError before it).
    for (const result of await Promise.allSettled(pending)) {
      if (result.status === "rejected") {
        expect([ClientError, ClientClosedError].some((type) => result.reason instanceof type)).toBe(true);
        expect((result.reason as ClientError).code).toBe(Status.CANCELLED);
      }
    }
    const started = performance.now();
    await expect(client.sayHello({ name: "late" })).rejects.toThrow(ClientClosedError);
    expect(performance.now() - started).toBeLessThan(1_000); // at once: not retried with backoff
    await expect(client.sayHello({ name: "late" })).rejects.toThrow(/client for ".*" is closed/);
    expect(() => client.close()).not.toThrow();
    expect(client.$channel.getConnectivityState(false)).toBe(connectivityState.SHUTDOWN);
  });
});

describe("the client's channel (BalancedChannel)", () => {
  test("close() closes every connection of the pool", async () => {
    // Through an L4 proxy, which sees each TCP connection open and close.
    const proxy = await startTcpProxy([fast.address]);
    try {
      const client = createGreeterClient({ target: proxy.address, strategy: pool(4) });
      await Promise.all(Array.from({ length: 40 }, () => client.sayHello({ name: "open" })));
      expect(client.$channel.stats().filter((c) => c.state === "READY")).toHaveLength(4);
      expect(proxy.openConnections()).toBe(4);
      client.close();
      expect(client.$channel.stats()).toEqual([]);
      for (let i = 0; i < 200 && proxy.openConnections() > 0; i++) await delay(10);
      expect(proxy.openConnections()).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  test("state follows the connections; watch reports the change", async () => {
    const channel = createBalancedChannel(fast.address, pool(4));
    try {
      expect(channel.getConnectivityState(false)).toBe(connectivityState.IDLE);
      let state = channel.getConnectivityState(true);
      const deadline = Date.now() + 10_000;
      while (state !== connectivityState.READY) {
        const from = state;
        await new Promise<void>((resolve, reject) =>
          channel.watchConnectivityState(from, deadline, (error) => (error ? reject(error) : resolve())),
        );
        state = channel.getConnectivityState(false);
        expect(state).not.toBe(from);
      }
      expect(channel.stats().map((c) => c.state)).toContain("READY");
    } finally {
      channel.close();
    }
  });

  test("watch fails once its deadline passes without a change", async () => {
    const channel = createBalancedChannel(fast.address, pool(2));
    try {
      const error = await new Promise<Error | undefined>((resolve) =>
        channel.watchConnectivityState(connectivityState.IDLE, Date.now() + 50, resolve),
      );
      expect(error?.message).toMatch(/Deadline/);
    } finally {
      channel.close();
    }
  });

  test("a plain grpc-js client can use it as channelOverride", async () => {
    const { makeGenericClientConstructor } = await import("@grpc/grpc-js");
    const Client = makeGenericClientConstructor({}, "Greeter");
    const channel = createBalancedChannel(fast.address, pool(2));
    const client = new Client(fast.address, credentials.createInsecure(), { channelOverride: channel as never });
    try {
      const reply = await new Promise<HelloReply>((resolve, reject) =>
        client.makeUnaryRequest(
          "/helloworld.Greeter/SayHello",
          (r: HelloRequest) => Buffer.from(HelloRequest.encode(r).finish()),
          (b: Buffer) => HelloReply.decode(b),
          { name: "grpc-js" },
          (error, value) => (error ? reject(error) : resolve(value!)),
        ),
      );
      expect(reply.message).toBe("Hello grpc-js");
    } finally {
      client.close();
      channel.close();
    }
  });
});

test("a process exits by itself once its clients are closed", async () => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "../fixtures/exit-after-close.ts"), fast.address],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const timeout = delay(20_000).then(() => "still running" as const);
  const result = await Promise.race([exited, timeout]);
  if (result === "still running") child.kill("SIGKILL");
  expect(output).toContain("closed");
  expect(result).toBe(0);
});

describe("a client's own max connection age, with a grace", () => {
  test("a call still running on a recycled connection when the grace runs out ends CANCELLED; one under it finishes", async () => {
    const server = await startBackend();
    let release: () => void = () => {};
    server.knobs.hold = new Promise<void>((resolve) => (release = resolve));
    const client = createGreeterClient({
      target: server.address,
      strategy: pool(1),
      maxConnectionAge: 1_000,
      maxConnectionAgeGrace: 300,
      retry: false,
    });
    try {
      const held = client.sayHello({ name: "held" }).catch((e: unknown) => e);
      // Recycled at ~1 s, cancelled ~300 ms later: the held call never gets its reply.
      const error = (await held) as { code: number; details: string };
      expect(error.code).toBe(Status.CANCELLED);
      expect(error.details).toContain("grace ran out");
      expect(client.$channel.stats().map((c) => c.role)).toEqual(["serving"]);
      release();
      server.knobs.hold = undefined;
      await expect(client.sayHello({ name: "after" })).resolves.toBeDefined();
    } finally {
      release();
      await client.close();
      await server.shutdown();
    }
  });
});

test("closed while a connection waits out its reconnect backoff: no connection is made after close(), the process exits", async () => {
  // In this process, so the backend comes back within milliseconds, before that backoff ends.
  const port = await freePort();
  let down: Backend | undefined = await startBackend({ address: `127.0.0.1:${port}` });
  const up = await startBackend({ address: `127.0.0.2:${port}` });
  try {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(import.meta.dirname, "../fixtures/exit-after-close-during-backoff.ts"),
        `ipv4:127.0.0.1:${port},127.0.0.2:${port}`,
      ],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    let output = "";
    const waiting: [string, () => void][] = [];
    const onData = (d: Buffer) => {
      output += d;
      for (const [text, resolve] of waiting) if (output.includes(text)) resolve();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const seen = (text: string) => new Promise<void>((resolve) => waiting.push([text, resolve]));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await seen("ready");
    down.server.forceShutdown();
    down = undefined;
    child.stdin.write("go\n");
    await seen("closed");
    down = await startBackend({ address: `127.0.0.1:${port}` }); // back while the closed client's connection waits
    const result = await Promise.race([exited, delay(10_000).then(() => "still running" as const)]);
    if (result === "still running") child.kill("SIGKILL");
    expect(output).not.toContain("a connection was opened after close()");
    expect(result).toBe(0);
  } finally {
    await down?.shutdown();
    await up.shutdown();
  }
}, 60_000);
