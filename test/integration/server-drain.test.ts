import { type RunningServer, type ServiceRegistration, Status, startServer } from "balanced-grpc";
import { afterEach, describe, expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { createRouteGuideClient } from "../../generated/routeguide/route_guide_sdk.js";
import { healthProbe } from "../../harness/health-probe.js";
import { type GreeterKnobs, greeterService } from "../../harness/reference/greeter.js";
import { routeGuideService } from "../../harness/reference/route-guide.js";

// server.drain() step by step, against the instants things really happened:
// NOT_SERVING at once while calls are still served; after delayMs no new
// calls and the health Watch streams ended (after they got NOT_SERVING);
// calls in flight finish, or are cancelled at timeoutMs; resolved once closed.
// Bounds on timers are lower bounds (a timer never fires early), or generous.

let cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A server whose SayHello calls wait until `release()`; `arrived` resolves when the first is on the server. */
async function holdingServer() {
  let release!: () => void;
  let arrive!: () => void;
  const knobs: GreeterKnobs = { slowMs: 0, failEvery: 0, hold: new Promise<void>((r) => (release = r)) };
  const arrived = new Promise<void>((r) => (arrive = r));
  const server = await startServer({
    services: [greeterService({ knobs, onCall: () => arrive() }), routeGuideService()] as ServiceRegistration[],
  });
  const greeter = createGreeterClient({ target: server.address, retry: false });
  const routeGuide = createRouteGuideClient({ target: server.address, retry: false });
  const probe = healthProbe(server.address);
  cleanup.push(
    () => server.forceShutdown(),
    () => greeter.close(),
    () => routeGuide.close(),
    () => probe.close(),
    () => release(),
  );
  return { server, greeter, routeGuide, probe, arrived, release };
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "OK",
    (e: { code?: number }) => Status[e.code ?? -1],
  );

/** Records when each named event happened, in order. */
function timeline() {
  const order: string[] = [];
  const at: Record<string, number> = {};
  return {
    order,
    at,
    mark(name: string) {
      order.push(name);
      at[name] = performance.now();
    },
  };
}

describe("server.drain()", () => {
  test("during delayMs: NOT_SERVING on Check and Watch at once, while calls are still served, old connections and new", async () => {
    const { server, routeGuide, probe } = await holdingServer();
    const watch = probe.watch("");
    await watch.until("SERVING");
    expect(await codeOf(routeGuide.getFeature({ latitude: 1, longitude: 1 }))).toBe("OK");
    const drained = server.drain({ delayMs: 60_000, timeoutMs: 1_000 });
    await watch.until("NOT_SERVING");
    expect(await probe.check("")).toBe("NOT_SERVING");
    expect(await probe.check("helloworld.Greeter")).toBe("NOT_SERVING");
    expect(await codeOf(routeGuide.getFeature({ latitude: 1, longitude: 1 }))).toBe("OK");
    const fresh = healthProbe(server.address);
    expect(await fresh.check("")).toBe("NOT_SERVING");
    fresh.close();
    // A server going away does not come back: setServing is ignored while it drains.
    server.setServing(true);
    expect(await probe.check("")).toBe("NOT_SERVING");
    server.forceShutdown(); // ends the drain, and cuts every stream
    await drained;
    await expect(watch.ended).resolves.toMatchObject({ code: Status.CANCELLED });
    expect(watch.updates.map((u) => u.status)).toEqual(["SERVING", "NOT_SERVING"]);
  });

  test("after delayMs: no new connections, Watch ended after NOT_SERVING, the call in flight finishes, then it resolves", async () => {
    const { server, greeter, probe, arrived, release } = await holdingServer();
    const t = timeline();
    const watch = probe.watch("");
    await watch.until("SERVING");
    const inFlight = greeter.sayHello({ name: "in flight" }).finally(() => t.mark("in-flight call ended"));
    await arrived;
    const delayMs = 200;
    t.mark("drain");
    const drained = server.drain({ delayMs, timeoutMs: 60_000 }).then(() => t.mark("drained"));
    const notServing = await watch.until("NOT_SERVING");
    const ended = await watch.ended;
    t.mark("watch ended");
    expect(ended.code).toBe(Status.OK);
    expect(notServing.at).toBeLessThan(ended.at);
    expect(ended.at - t.at.drain!).toBeGreaterThanOrEqual(delayMs - 5); // the delay was kept
    // GOAWAY sent and the listener closed: a new connection finds no server.
    const fresh = healthProbe(server.address);
    expect(await codeOf(fresh.check("", 2_000))).toBe("UNAVAILABLE");
    fresh.close();
    t.mark("released");
    release();
    await expect(inFlight).resolves.toEqual({ message: "Hello in flight" });
    await drained;
    expect(t.order).toEqual(["drain", "watch ended", "released", "in-flight call ended", "drained"]);
  });

  test("a call still running at timeoutMs is cancelled; it resolves within delayMs + timeoutMs", async () => {
    const { server, greeter, arrived } = await holdingServer();
    const stuck = codeOf(greeter.sayHello({ name: "stuck" }));
    await arrived;
    const started = performance.now();
    await server.drain({ delayMs: 100, timeoutMs: 300 });
    const took = performance.now() - started;
    expect(await stuck).toBe("CANCELLED");
    expect(took).toBeGreaterThanOrEqual(400 - 5);
    expect(took).toBeLessThan(400 + 5_000); // slack for a busy machine; the timeout is what cut it
  });

  test("an open Watch does not hold a shutdown until its timeout: it gets NOT_SERVING and ends", async () => {
    const { server, probe } = await holdingServer();
    const watches = [probe.watch(""), probe.watch("helloworld.Greeter"), probe.watch("unknown.Service")];
    await Promise.all([watches[0]!.until("SERVING"), watches[2]!.until("SERVICE_UNKNOWN")]);
    const started = performance.now();
    await server.shutdown({ timeout: 30_000 });
    expect(performance.now() - started).toBeLessThan(10_000); // not the 30 s timeout
    for (const watch of watches) await expect(watch.ended).resolves.toMatchObject({ code: Status.OK });
    expect(watches[0]!.updates.map((u) => u.status)).toEqual(["SERVING", "NOT_SERVING"]);
    expect(watches[2]!.updates.map((u) => u.status)).toEqual(["SERVICE_UNKNOWN"]);
  });

  test("a second drain() or shutdown() joins the first; forceShutdown() ends it and cancels the calls", async () => {
    const { server, greeter, arrived } = await holdingServer();
    const stuck = codeOf(greeter.sayHello({ name: "stuck" }));
    await arrived;
    const t = timeline();
    const first = server.drain({ delayMs: 60_000, timeoutMs: 60_000 }).then(() => t.mark("first"));
    const second = server.shutdown({ timeout: 0 }).then(() => t.mark("second"));
    const third = server.drain({ delayMs: 0 }).then(() => t.mark("third"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(t.order).toEqual([]); // the shutdown without delay did not cut the first drain short
    t.mark("force");
    server.forceShutdown();
    await Promise.all([first, second, third]);
    expect(t.order[0]).toBe("force");
    expect(["CANCELLED", "UNAVAILABLE"]).toContain(await stuck);
  });

  test("refuses bad options, naming them", async () => {
    const server: RunningServer = await startServer({ services: [] });
    cleanup.push(() => server.shutdown({ timeout: 0 }));
    await expect(server.drain({ delayMs: -1 })).rejects.toThrow(/"delayMs".*got -1/);
    await expect(server.drain({ timeoutMs: 1.5 })).rejects.toThrow(/"timeoutMs".*got 1.5/);
    await expect(server.drain({ delay: 5 } as never)).rejects.toThrow(/"delay".*did you mean "delayMs"/);
    await expect(server.drain("soon" as never)).rejects.toThrow(/"drain options".*got 'soon'/);
  });
});
