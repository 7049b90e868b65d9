import { once } from "node:events";
import { connect, type Settings } from "node:http2";
import { setTimeout as delay } from "node:timers/promises";
import { ClientError, InvalidOptionError, type ServerOptions, Status, service, startServer } from "balanced-grpc";
import { describe, expect, test } from "vitest";
import { GreeterDefinition } from "../../generated/helloworld/helloworld.js";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { RouteGuideDefinition } from "../../generated/routeguide/route_guide.js";

function slowGreeter(ms: number) {
  let arrived: () => void = () => {};
  const onServer = () => new Promise<void>((resolve) => (arrived = resolve));
  const registration = service(GreeterDefinition, {
    async sayHello(request) {
      arrived();
      await delay(ms);
      return { message: `Hello ${request.name}` };
    },
  });
  return { registration, onServer };
}

describe("startServer", () => {
  test("binds a free port and reports it", async () => {
    const server = await startServer({ services: [] });
    expect(server.host).toBe("127.0.0.1");
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    await server.shutdown();
  });

  test("maxConcurrentStreams is advertised in the server's HTTP/2 SETTINGS", async () => {
    const server = await startServer({ services: [], maxConcurrentStreams: 10 });
    const session = connect(`http://${server.address}`);
    const [settings] = (await once(session, "remoteSettings")) as [Settings];
    expect(settings.maxConcurrentStreams).toBe(10);
    session.destroy();
    await server.shutdown();
  });

  test("shutdown() lets a running call finish", async () => {
    const { registration, onServer } = slowGreeter(300);
    const server = await startServer({ services: [registration] });
    const client = createGreeterClient({ target: server.address, retry: false });
    const arrived = onServer();
    const call = client.sayHello({ name: "drain" });
    await arrived;
    await server.shutdown({ timeout: 5_000 });
    await expect(call).resolves.toEqual({ message: "Hello drain" });
    client.close();
  });

  test("shutdown() forces what is still running after its timeout", async () => {
    const { registration, onServer } = slowGreeter(10_000);
    const server = await startServer({ services: [registration] });
    const client = createGreeterClient({ target: server.address, retry: false });
    const arrived = onServer();
    const call = client.sayHello({ name: "too long" }).catch((e: unknown) => e);
    await arrived;
    const started = performance.now();
    await server.shutdown({ timeout: 200 });
    expect(performance.now() - started).toBeLessThan(5_000);
    const error = await call;
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(Status.CANCELLED); // the server reset the stream
    client.close();
  });

  test("a call longer than the max-age grace is cut: the grace must exceed the longest call", async () => {
    const { registration, onServer } = slowGreeter(2_000);
    const server = await startServer({ services: [registration], maxConnectionAge: 200, maxConnectionAgeGrace: 300 });
    const client = createGreeterClient({ target: server.address, retry: false });
    const arrived = onServer();
    const error = await Promise.all([client.sayHello({ name: "long" }).catch((e: unknown) => e), arrived]).then(
      ([e]) => e,
    );
    expect(error).toBeInstanceOf(ClientError);
    client.close();
    await server.shutdown({ timeout: 100 });
  });

  test.each([
    [{ maxConnectionAge: -1 }, "maxConnectionAge", "-1"],
    [{ maxConnectionAge: NaN }, "maxConnectionAge", "NaN"],
    [{ maxConnectionAge: 0 }, "maxConnectionAge", "0"],
    [{ maxConnectionAge: 1.5 }, "maxConnectionAge", "1.5"],
    [{ maxConnectionAge: 1000, maxConnectionAgeGrace: -5 }, "maxConnectionAgeGrace", "-5"],
    [{ maxConnectionAgeGrace: 1000 }, "maxConnectionAgeGrace", "1000"],
    [{ keepalive: { timeMs: 0, timeoutMs: 1000 } }, "keepalive.timeMs", "0"],
    [{ maxConcurrentStreams: 0 }, "maxConcurrentStreams", "0"],
  ] as [Partial<ServerOptions>, string, string][])("refuses %j", async (options, option, shown) => {
    const error = await startServer({ services: [], ...options }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toContain(`"${option}"`);
    expect((error as Error).message).toContain(shown);
  });

  test("a partial implementation is refused, naming the missing methods", async () => {
    const partial = { getFeature: async () => ({ name: "", location: undefined }) };
    expect(() => service(RouteGuideDefinition, partial as never)).toThrow(InvalidOptionError);
    expect(() => service(RouteGuideDefinition, partial as never)).toThrow(
      /missing: listFeatures, recordRoute, routeChat/,
    );
    const registration = { definition: RouteGuideDefinition, implementation: partial } as never;
    await expect(startServer({ services: [registration] })).rejects.toThrow(
      /routeguide.RouteGuide; missing: listFeatures/,
    );
  });

  test("refuses a bad shutdown timeout", async () => {
    const server = await startServer({ services: [] });
    await expect(server.shutdown({ timeout: -1 })).rejects.toThrow(/"timeout"/);
    await server.shutdown();
  });
});

describe("client keepalive option", () => {
  test.each([
    ["yes", "keepalive"],
    [{ timeMs: 0 }, "keepalive.timeMs"],
    [{ timeoutMs: NaN }, "keepalive.timeoutMs"],
  ])("refuses %j", (keepalive, option) => {
    expect(() => createGreeterClient({ target: "127.0.0.1:1", keepalive: keepalive as never })).toThrow(`"${option}"`);
  });
});
