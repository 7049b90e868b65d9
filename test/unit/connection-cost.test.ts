import { connectivityState as State } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { Connection } from "../../src/balancer/connection.js";
import { FakeHelper } from "./fake-subchannel.js";

// One connection of the balancer on its own, over a fake subchannel: what it
// costs p2c, how it counts calls, when it times one, and what stats() shows.

const address = (a: string) => ({ host: a.split(":")[0]!, port: Number(a.split(":")[1]) });

function connection(...addresses: string[]) {
  const helper = new FakeHelper();
  const changes: State[] = [];
  const c = new Connection({ addresses: addresses.map(address) }, helper, {}, "", (x) => changes.push(x.state));
  return { c, helper, changes };
}

async function ready(...addresses: string[]) {
  const made = connection(...addresses);
  made.c.startConnecting();
  await new Promise(process.nextTick); // grpc-js's pick_first connects on the next tick
  made.helper.subchannels[0]!.set(State.READY);
  expect(made.c.state).toBe(State.READY);
  return made;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Ends one timed call on `c` that took about `ms`. */
function timedCall(c: Connection, ms: number): void {
  expect(c.timeThisCall()).toBe(true);
  c.picked(performance.now());
  c.startedTimed();
  c.endedTimed(performance.now() - ms, 0, "");
}

describe("cost", () => {
  test("an unused connection costs nothing", () => {
    expect(connection("10.0.0.1:80").c.cost(performance.now())).toBe(0);
  });

  test("before any answer, each call on it adds to a penalty above any measured cost", () => {
    const { c } = connection("10.0.0.1:80");
    c.picked(performance.now());
    expect(c.cost(0)).toBe(1e6 + 1);
    c.picked(performance.now());
    expect(c.cost(0)).toBe(1e6 + 2);
    c.started(); // a picked call starts: moved from pending to in flight, still one call
    expect(c.cost(0)).toBe(1e6 + 2);
    expect(c.inFlight).toBe(1);
    expect(c.pending).toBe(1);
  });

  test("once measured: the round trip times the square root of the calls on it plus one", () => {
    const { c } = connection("10.0.0.1:80");
    timedCall(c, 50);
    const now = performance.now();
    const rtt = c.cost(now);
    expect(rtt).toBeGreaterThanOrEqual(50);
    expect(rtt).toBeLessThan(80);
    c.started();
    c.started();
    c.picked(performance.now());
    expect(c.cost(now) / rtt).toBeCloseTo(Math.sqrt(4), 10);
    expect(c.stats(now, 1).rttMs).toBeCloseTo(rtt, 1);
    expect(Number.isInteger(c.stats(now, 1).rttMs * 100)).toBe(true); // rounded to 0.01 ms
  });

  test("a started call with no pick before it does not take a pending one away", () => {
    const { c } = connection("10.0.0.1:80");
    c.started();
    expect(c.pending).toBe(0);
    expect(c.cost(0)).toBe(1e6 + 1);
  });
});

describe("picks whose calls never start", () => {
  test("are forgotten on the next turn of the event loop, every time", async () => {
    const { c } = connection("10.0.0.1:80");
    for (let round = 0; round < 2; round++) {
      c.picked(performance.now());
      expect(c.cost(0)).toBe(1e6 + 1);
      await nextTurn();
      expect(c.pending).toBe(0);
      expect(c.cost(0)).toBe(0);
    }
  });

  test("a timed one among them frees the timing for the next call; a started one does not", async () => {
    const { c } = connection("10.0.0.1:80");
    expect(c.timeThisCall()).toBe(true);
    c.picked(performance.now());
    expect(c.timeThisCall()).toBe(false); // one timed call at a time
    await nextTurn();
    expect(c.timeThisCall()).toBe(true); // the first never started
    c.picked(performance.now());
    c.startedTimed();
    await nextTurn();
    expect(c.timeThisCall()).toBe(false); // still under way
    c.endedTimed(performance.now(), 0, "");
    expect(c.timeThisCall()).toBe(true);
  });
});

describe("closing", () => {
  test("a draining connection closes when its last call ends, once", () => {
    const { c, changes } = connection("10.0.0.1:80");
    c.started();
    c.started();
    c.drain();
    expect(c.isClosed).toBe(false);
    c.ended(0, "");
    expect(c.isClosed).toBe(false);
    c.ended(0, "");
    expect(c.isClosed).toBe(true);
    expect(changes).toHaveLength(1);
    c.close();
    expect(changes).toHaveLength(1);
  });

  test("a draining connection with no calls closes at once; a serving one stays open when idle", () => {
    const serving = connection("10.0.0.1:80").c;
    serving.started();
    serving.ended(0, "");
    expect(serving.isClosed).toBe(false);
    expect(serving.completed).toBe(1);
    const idle = connection("10.0.0.1:80").c;
    idle.drain();
    expect(idle.isClosed).toBe(true);
  });

  test("a closed connection ignores its leaf's state changes", async () => {
    const { c, helper, changes } = connection("10.0.0.1:80");
    c.startConnecting();
    await new Promise(process.nextTick);
    c.close();
    const seen = changes.length;
    helper.subchannels[0]?.set(State.READY);
    expect(changes).toHaveLength(seen);
    expect(c.state).not.toBe(State.READY);
  });
});

describe("state and stats", () => {
  test("before it connects: the endpoint's addresses, no backend, no age", () => {
    const { c } = connection("10.0.0.1:80", "10.0.0.2:80");
    expect(c.backend).toBe("");
    const stats = c.stats(performance.now(), 1);
    expect(stats).toEqual({
      address: "10.0.0.1:80,10.0.0.2:80",
      state: "IDLE",
      role: "serving",
      inFlight: 0,
      completed: 0,
      ageMs: undefined,
      rttMs: 0,
      streamLimit: Number.POSITIVE_INFINITY,
      streamLimitSource: "assumed",
      poolSize: 1,
      healthy: true, // no health checking asked of it
      healthSource: "unknown",
    });
  });

  test("once ready: the address it reached, and its age since", async () => {
    const { c, changes } = await ready("10.0.0.1:80");
    expect(c.backend).toBe("10.0.0.1:80");
    expect(c.previousState).toBe(State.CONNECTING);
    expect(changes.at(-1)).toBe(State.READY);
    const stats = c.stats(c.readyAt! + 1_234, 1);
    expect(stats.address).toBe("10.0.0.1:80");
    expect(stats.state).toBe("READY");
    expect(stats.ageMs).toBe(1_234);
  });

  test("a dropped connection has no age, remembers it was ready, and keeps the address it reached", async () => {
    const { c, helper } = await ready("10.0.0.1:80");
    helper.subchannels[0]!.set(State.TRANSIENT_FAILURE);
    expect(c.state).not.toBe(State.READY);
    expect(c.previousState).toBe(State.READY);
    expect(c.readyAt).toBeUndefined();
    expect(c.stats(performance.now(), 1).ageMs).toBeUndefined();
    expect(c.stats(performance.now(), 1).address).toBe("10.0.0.1:80");
  });

  test("a failure to connect is kept as the reason", async () => {
    const { c, helper } = connection("10.0.0.1:80");
    c.startConnecting();
    await new Promise(process.nextTick);
    helper.subchannels[0]!.set(State.TRANSIENT_FAILURE);
    expect(c.state).toBe(State.TRANSIENT_FAILURE);
    expect(c.error).toEqual(expect.any(String));
  });

  test("the reason of the last failure stays once it connects", async () => {
    const { c, helper } = connection("10.0.0.1:80");
    c.startConnecting();
    await new Promise(process.nextTick);
    helper.subchannels[0]!.set(State.TRANSIENT_FAILURE);
    const reason = c.error;
    helper.subchannels[0]!.set(State.READY);
    expect(c.state).toBe(State.READY);
    expect(c.error).toBe(reason);
  });

  test("ready reported again (the same endpoint resolved again) keeps its age", async () => {
    const { c, changes } = await ready("10.0.0.1:80");
    const readyAt = c.readyAt;
    await new Promise((resolve) => setTimeout(resolve, 5));
    c.update({ addresses: [address("10.0.0.1:80")] }, {});
    await new Promise(process.nextTick);
    expect(changes.slice(-2)).toEqual([State.READY, State.READY]);
    expect(c.readyAt).toBe(readyAt);
  });

  test("a new endpoint makes the leaf connect to the new address", async () => {
    const { c, helper } = await ready("10.0.0.1:80");
    c.update({ addresses: [address("10.0.0.9:80")] }, {});
    await new Promise(process.nextTick);
    expect(helper.subchannels.map((s) => s.address)).toContain("10.0.0.9:80");
  });

  test("exitIdle reconnects an idle connection", async () => {
    const { c, helper } = await ready("10.0.0.1:80");
    helper.subchannels[0]!.set(State.IDLE);
    expect(c.state).toBe(State.IDLE);
    const before = helper.subchannels[0]!.connects;
    c.exitIdle();
    await new Promise(process.nextTick);
    expect(helper.subchannels.reduce((n, s) => n + s.connects, 0)).toBeGreaterThan(before);
  });
});
