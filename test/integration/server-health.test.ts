import {
  InvalidOptionError,
  type RunningServer,
  ServerError,
  type ServiceRegistration,
  Status,
  startServer,
} from "balanced-grpc";
import { afterEach, describe, expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { healthProbe } from "../../harness/health-probe.js";
import { greeterService } from "../../harness/reference/greeter.js";
import { routeGuideService } from "../../harness/reference/route-guide.js";

// The server's grpc.health.v1 as Kubernetes' gRPC probe or grpc-health-probe
// sees it: a plain grpc-js client with its own codec (harness/health-probe.ts).

const GREETER = "helloworld.Greeter";
const ROUTE_GUIDE = "routeguide.RouteGuide";

let cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function serve(options: Partial<Parameters<typeof startServer>[0]> = {}) {
  const server = await startServer({
    services: [greeterService(), routeGuideService()] as ServiceRegistration[],
    ...options,
  });
  const probe = healthProbe(server.address);
  cleanup.push(
    () => server.shutdown({ timeout: 0 }),
    () => probe.close(),
  );
  return { server, probe };
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (e: { code?: number }) => Status[e.code ?? -1],
  );

describe("grpc.health.v1 on startServer", () => {
  test('Check: "" and every service SERVING once listening; an unknown name NOT_FOUND', async () => {
    const { probe } = await serve();
    expect(await probe.check("")).toBe("SERVING");
    expect(await probe.check(GREETER)).toBe("SERVING");
    expect(await probe.check(ROUTE_GUIDE)).toBe("SERVING");
    expect(await codeOf(probe.check("helloworld.Nope"))).toBe("NOT_FOUND");
    // The health service itself is not a service of the application.
    expect(await codeOf(probe.check("grpc.health.v1.Health"))).toBe("NOT_FOUND");
  });

  test("setServing changes one service, or all; Watch gets each change once, SERVICE_UNKNOWN until a name is known", async () => {
    const { server, probe } = await serve();
    const whole = probe.watch("");
    const greeter = probe.watch(GREETER);
    const later = probe.watch("readiness");
    await Promise.all([whole.until("SERVING"), greeter.until("SERVING"), later.until("SERVICE_UNKNOWN")]);

    server.setServing(false, GREETER);
    await greeter.until("NOT_SERVING");
    expect(await probe.check("")).toBe("SERVING");
    expect(await probe.check(ROUTE_GUIDE)).toBe("SERVING");
    expect(await probe.check(GREETER)).toBe("NOT_SERVING");

    server.setServing(true, "readiness"); // a name of the application's own, as grpc-go allows
    await later.until("SERVING");
    expect(await probe.check("readiness")).toBe("SERVING");

    server.setServing(false); // every name it knows
    await Promise.all([whole.until("NOT_SERVING"), later.until("NOT_SERVING")]);
    for (const name of ["", GREETER, ROUTE_GUIDE, "readiness"]) expect(await probe.check(name)).toBe("NOT_SERVING");

    server.setServing(false); // no change: nothing sent
    server.setServing(true);
    // A stream delivers in order: once SERVING is in, a second NOT_SERVING would have come before it.
    await Promise.all([whole.until("SERVING"), greeter.until("SERVING"), later.until("SERVING")]);
    expect(whole.updates.map((u) => u.status)).toEqual(["SERVING", "NOT_SERVING", "SERVING"]);
    expect(greeter.updates.map((u) => u.status)).toEqual(["SERVING", "NOT_SERVING", "SERVING"]);
    expect(later.updates.map((u) => u.status)).toEqual(["SERVICE_UNKNOWN", "SERVING", "NOT_SERVING", "SERVING"]);
    for (const watch of [whole, greeter, later]) watch.cancel();
    await Promise.all([whole.ended, greeter.ended, later.ended]);
  });

  test("a long, non-ASCII name goes through both codecs (a two-byte length)", async () => {
    const { server, probe } = await serve();
    const name = `${"a".repeat(200)}.Grüße`;
    expect(await codeOf(probe.check(name))).toBe("NOT_FOUND");
    server.setServing(true, name);
    expect(await probe.check(name)).toBe("SERVING");
    expect(await codeOf(probe.check(`${name}x`))).toBe("NOT_FOUND");
  });

  test("setServing refuses what it cannot use, naming it", async () => {
    const { server } = await serve();
    expect(() => server.setServing("yes" as never)).toThrow(InvalidOptionError);
    expect(() => server.setServing("yes" as never)).toThrow(/"serving".*got 'yes'/);
    expect(() => server.setServing(true, 42 as never)).toThrow(/"service".*got 42/);
  });

  test("health: false serves no health service (UNIMPLEMENTED) and setServing says why it cannot", async () => {
    const { server, probe } = await serve({ health: false });
    expect(await codeOf(probe.check(""))).toBe("UNIMPLEMENTED");
    expect(() => server.setServing(false)).toThrow(/health: false/);
  });

  test("the health service is not behind the server's middleware: a probe without credentials gets its answer", async () => {
    const { server, probe } = await serve({
      middleware: [
        // biome-ignore lint/correctness/useYield: it rejects every call before the handler
        async function* denyAll() {
          throw new ServerError(Status.UNAUTHENTICATED, "no token");
        },
      ],
    });
    const client = createGreeterClient({ target: server.address, retry: false });
    cleanup.push(() => client.close());
    expect(await codeOf(client.sayHello({ name: "x" }))).toBe("UNAUTHENTICATED");
    expect(await probe.check("")).toBe("SERVING");
  });
});

describe("handleSignals listeners", () => {
  const counts = () => [process.listenerCount("SIGTERM"), process.listenerCount("SIGINT")];

  test("one pair for the process however many servers; gone once the last server closed, by any path", async () => {
    const before = counts();
    const servers: RunningServer[] = [];
    for (let i = 0; i < 3; i++) servers.push(await startServer({ services: [], handleSignals: true }));
    const plain = await startServer({ services: [] });
    expect(counts()).toEqual(before.map((n) => n + 1));
    await servers[0]!.shutdown({ timeout: 0 });
    servers[1]!.forceShutdown();
    expect(counts()).toEqual(before.map((n) => n + 1));
    await servers[2]!.drain({ delayMs: 0, timeoutMs: 0 });
    expect(counts()).toEqual(before);
    await plain.shutdown({ timeout: 0 });
    expect(counts()).toEqual(before);
  });
});
