import { experimental, Metadata, connectivityState as State } from "@grpc/grpc-js";
import { beforeEach, describe, expect, test } from "vitest";
import { attachNote } from "../../src/balancer/pick-note.js";
import { FakeClock } from "./fake-clock.js";
import type { FakeHelper, FakeSubchannel } from "./fake-subchannel.js";
import { policyUnderTest } from "./policy-under-test.js";

// Stream limits and the adaptive pool, driven as grpc-js drives the policy
// (its public load-balancer API) over fake subchannels. Every server here
// allows 2 streams per connection (streamsPerConnection: 2).

const LIMIT = 2;

/** The policy's timers (shrinking, recycling) run on this clock, which each test moves. */
let clock = new FakeClock();
beforeEach(() => {
  clock = new FakeClock();
});

function balancer(settings: {
  mode?: string;
  min?: number;
  max?: number;
  idleMs?: number;
  pick?: string;
  maxConnectionAgeMs?: number;
}) {
  return policyUnderTest(
    {
      mode: "pool",
      min: 1,
      max: 4,
      idleMs: 30_000,
      pick: "p2c",
      streamsPerConnection: LIMIT,
      probeStreamLimit: false,
      ...settings,
    },
    clock,
  );
}

/** Starts a call: its pick, started at once; returns where it went (undefined: held) and how to end it. */
function start(helper: FakeHelper): { on: FakeSubchannel | undefined; end: () => void } {
  const { result, fake } = helper.pick();
  if (result.pickResultType === experimental.PickResultType.QUEUE) return { on: undefined, end: () => {} };
  expect(result.pickResultType).toBe(experimental.PickResultType.COMPLETE);
  result.onCallStarted?.();
  return { on: fake, end: () => result.onCallEnded?.(0, "", undefined as never) };
}

const nextTick = () => new Promise((resolve) => setImmediate(resolve));
const serving = (stats: ReturnType<ReturnType<typeof balancer>["stats"]>) =>
  stats.filter((c) => c.role === "serving").length;

describe("picks respect each connection's stream limit", () => {
  test("p2c and round robin give no call to a full connection while another, to any backend, has room", () => {
    for (const pick of ["p2c", "roundRobin"]) {
      const { helper, update } = balancer({ mode: "pool", min: 1, max: 1, pick });
      update("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
      for (const s of helper.subchannels) s.set(State.READY);
      const calls = Array.from({ length: 3 * LIMIT }, () => start(helper));
      // Six calls over three connections that each allow two: two on each.
      const on = new Map<FakeSubchannel | undefined, number>();
      for (const call of calls) on.set(call.on, (on.get(call.on) ?? 0) + 1);
      expect([...on.values()]).toEqual([LIMIT, LIMIT, LIMIT]);
      // All full and the pool fixed: the next call still goes somewhere (HTTP/2 queues it).
      expect(start(helper).on).toBeDefined();
    }
  });

  test("roundRobin() and a fixed pool keep their connection counts at the limit", async () => {
    const { helper, update } = balancer({ mode: "roundRobin", min: 1, max: 1, pick: "roundRobin" });
    update("10.0.0.1:80");
    helper.subchannels[0]!.set(State.READY);
    for (let i = 0; i < 5; i++) expect(start(helper).on).toBe(helper.subchannels[0]);
    await nextTick();
    expect(helper.subchannels).toHaveLength(1);
  });
});

describe("an adaptive pool", () => {
  test("grows before a call would wait for a stream: held calls go to the new connection once it is ready", async () => {
    const { helper, update, stats } = balancer({ max: 3 });
    update("10.0.0.1:80");
    const [first] = helper.subchannels;
    first!.set(State.READY);
    expect(start(helper).on).toBe(first);
    expect(start(helper).on).toBe(first); // full now
    expect(helper.subchannels).toHaveLength(1);
    // The third call would wait for a stream: a second connection opens and the call is held for it.
    expect(start(helper).on).toBeUndefined();
    await Promise.resolve();
    expect(helper.subchannels).toHaveLength(2);
    // grpc-js picks held calls again on each new picker: here by hand. The
    // second connection, connecting, will take two; the third call after that opens a third.
    expect(start(helper).on).toBeUndefined();
    expect(start(helper).on).toBeUndefined();
    await Promise.resolve();
    expect(helper.subchannels).toHaveLength(2);
    expect(start(helper).on).toBeUndefined();
    await Promise.resolve();
    expect(helper.subchannels).toHaveLength(3);
    const [, second, third] = helper.subchannels;
    second!.set(State.READY);
    expect(start(helper).on).toBe(second);
    expect(start(helper).on).toBe(second);
    third!.set(State.READY);
    expect(start(helper).on).toBe(third);
    expect(start(helper).on).toBe(third);
    // At max (3) and all full: the least busy connection takes the call, over its limit.
    expect(start(helper).on).toBeDefined();
    await Promise.resolve();
    expect(helper.subchannels).toHaveLength(3);
    expect(stats().map((c) => [c.poolSize, c.streamLimit, c.streamLimitSource])).toEqual([
      [3, LIMIT, "option"],
      [3, LIMIT, "option"],
      [3, LIMIT, "option"],
    ]);
  });

  test("it grows only when no connection to any backend has room, the address with the fewest first", async () => {
    const { helper, update, stats } = balancer({ max: 4 });
    update("10.0.0.1:80", "10.0.0.2:80");
    for (const s of helper.subchannels) s.set(State.READY);
    for (let i = 0; i < 2 * LIMIT; i++) expect(start(helper).on).toBeDefined();
    await Promise.resolve();
    expect(helper.subchannels).toHaveLength(2); // both full, nothing waited yet
    for (let round = 0; round < 2; round++) {
      expect(start(helper).on).toBeUndefined(); // held for a new connection
      await Promise.resolve();
      for (const s of helper.subchannels) s.set(State.READY);
      for (let i = 0; i < LIMIT; i++) expect(start(helper).on).toBeDefined();
    }
    const sizes = Object.fromEntries(stats().map((c) => [c.address, c.poolSize]));
    expect(sizes).toEqual({ "10.0.0.1:80": 2, "10.0.0.2:80": 2 });
  });

  test("an address whose connection fails gets no more", async () => {
    const { helper, update, stats } = balancer({ max: 4 });
    update("10.0.0.1:80", "10.0.0.2:80");
    const [a, b] = helper.subchannels;
    a!.set(State.READY);
    b!.set(State.TRANSIENT_FAILURE);
    for (let i = 0; i < 20; i++) {
      start(helper);
      await Promise.resolve();
      for (const s of helper.subchannels) if (s.state === State.CONNECTING) s.set(State.READY);
    }
    const sizes = Object.fromEntries(stats().map((c) => [c.address, c.poolSize]));
    expect(sizes).toEqual({ "10.0.0.1:80": 4, "10.0.0.2:80": 1 });
  });

  test("a connection that fails to connect releases the calls held for it to the ready ones", async () => {
    const { helper, update } = balancer({ max: 2 });
    update("10.0.0.1:80");
    const [first] = helper.subchannels;
    first!.set(State.READY);
    start(helper);
    start(helper);
    expect(start(helper).on).toBeUndefined();
    await Promise.resolve();
    helper.subchannels[1]!.set(State.TRANSIENT_FAILURE);
    expect(start(helper).on).toBe(first); // none coming: over the limit on the ready one
  });

  test("shrinks back to min once its calls fit in fewer connections for idleMs, one drain at a time", async () => {
    const { helper, update, stats, handler } = balancer({ max: 4, idleMs: 40 });
    update("10.0.0.1:80");
    helper.subchannels[0]!.set(State.READY);
    const calls: ReturnType<typeof start>[] = [];
    for (let i = 0; i < 50 && calls.length < 4 * LIMIT; i++) {
      const call = start(helper);
      if (call.on) calls.push(call);
      await Promise.resolve(); // a planned connection opens
      for (const s of helper.subchannels) if (s.state !== State.READY) s.set(State.READY);
    }
    expect(serving(stats())).toBe(4);
    expect(stats().map((c) => c.inFlight)).toEqual([LIMIT, LIMIT, LIMIT, LIMIT]);
    clock.tick(120); // three idle periods, busy: nothing shrinks
    expect(serving(stats())).toBe(4);
    // One call left on each connection: they would fit in 2, so one drains, and
    // stays draining while its call runs; no second drains meanwhile.
    const kept = new Map(calls.map((call) => [call.on, call])); // the last call on each connection
    for (const call of calls) if (![...kept.values()].includes(call)) call.end();
    clock.tick(39); // not yet: they must have fitted for idleMs (40), from the first look that saw them fit
    expect(serving(stats())).toBe(4);
    clock.tick(30);
    expect(serving(stats())).toBe(3);
    clock.tick(120); // three more idle periods: still only that one
    expect(stats().map((c) => c.role)).toEqual(["serving", "serving", "serving", "draining"]);
    for (const call of kept.values()) call.end();
    clock.tick(200);
    expect(stats().map((c) => c.role)).toEqual(["serving"]);
    expect(helper.subchannels.filter((s) => s.refs > 0)).toHaveLength(1); // the others were closed
    expect(stats()[0]!.poolSize).toBe(1);
    handler.destroy();
  });

  test("with maxConnectionAge, a recycled connection's replacement takes its place: the size stays", async () => {
    const { helper, update, stats, handler } = balancer({ max: 4, maxConnectionAgeMs: 30 });
    update("10.0.0.1:80");
    helper.subchannels[0]!.set(State.READY);
    start(helper);
    start(helper);
    expect(start(helper).on).toBeUndefined(); // a second connection opens
    await Promise.resolve();
    helper.subchannels[1]!.set(State.READY);
    clock.tick(40);
    expect(stats().map((c) => c.role)).toEqual(["serving", "serving", "replacement"]);
    helper.subchannels[2]!.set(State.READY);
    expect(
      stats()
        .filter((c) => c.role === "serving")
        .map((c) => c.poolSize),
    ).toEqual([2, 2]);
    handler.destroy();
  });

  test("draining connections count towards max: a pool never holds more sockets per address than max", async () => {
    const { helper, update, stats } = balancer({ max: 2, idleMs: 40 });
    update("10.0.0.1:80");
    const [c1] = helper.subchannels;
    c1!.set(State.READY);
    const [a, b] = [start(helper), start(helper)];
    expect(start(helper).on).toBeUndefined(); // c1 is full: a second connection opens
    await Promise.resolve();
    const c2 = helper.subchannels[1]!;
    c2.set(State.READY);
    const [, e] = [start(helper), start(helper)];
    // One call left on each: they fit in one connection, so one (c1, with a long call) drains.
    b!.end();
    e!.end();
    clock.tick(100);
    expect(stats().map((c) => c.role)).toEqual(["serving", "draining"]);
    expect(a!.on).toBe(c1);
    // c2 has room for one more; the call after would wait: with c1 still open, no third socket opens.
    expect(start(helper).on).toBe(c2);
    expect(start(helper).on).toBe(c2); // over its limit: HTTP/2 queues it
    await Promise.resolve();
    expect(helper.subchannels).toHaveLength(2);
  });

  test("a call that must avoid a connection (a retry) is not sent back to it because the one that suits is full", async () => {
    for (const max of [1, 2]) {
      const { helper, update, stats } = balancer({ mode: max === 1 ? "roundRobin" : "pool", max, pick: "roundRobin" });
      update("10.0.0.1:80", "10.0.0.2:80");
      for (const s of helper.subchannels) s.set(State.READY);
      const [bad, good] = helper.subchannels;
      // The good backend's connection is full (long calls); the bad one answers at once, so it is empty.
      for (let i = 0; i < 20 && stats().find((c) => c.address === "10.0.0.2:80")!.inFlight < LIMIT; i++) {
        const call = start(helper);
        if (call.on === bad) call.end();
      }
      const badRoute = stats().find((c) => c.address === "10.0.0.1:80")!;
      expect(badRoute.inFlight).toBeLessThan(LIMIT);
      // A retry of a call that failed on the bad backend: its pick passes over it.
      const metadata = new Metadata();
      attachNote(metadata, { connections: new Set(), backends: new Set(["10.0.0.1:80"]) });
      const { result, fake: to } = helper.pick(metadata);
      if (result.pickResultType === experimental.PickResultType.COMPLETE) result.onCallStarted?.();
      if (max === 1)
        expect(to).toBe(good); // a fixed pool: queued on the full one that suits
      else expect([undefined, good]).toContain(to); // an adaptive one may hold it for a new connection
      expect(to).not.toBe(bad);
    }
  });
});
