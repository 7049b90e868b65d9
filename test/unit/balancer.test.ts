import { experimental, connectivityState as State } from "@grpc/grpc-js";
import { beforeEach, describe, expect, test } from "vitest";
import { FakeClock } from "./fake-clock.js";
import type { FakeHelper, FakeSubchannel } from "./fake-subchannel.js";
import { policyUnderTest } from "./policy-under-test.js";

// The SDK's load-balancing policy, driven as grpc-js drives it (through its
// public load-balancer API), over subchannels whose states the test sets.

/** The policy's timers run on this clock, which each test moves. */
let clock = new FakeClock();
beforeEach(() => {
  clock = new FakeClock();
});

function balancer({
  size = 1,
  ...settings
}: {
  mode: string;
  size?: number;
  pick?: string;
  maxConnectionAgeMs?: number;
  maxConnectionAgeGraceMs?: number;
}) {
  return policyUnderTest(
    { min: size, max: size, idleMs: 30_000, pick: "p2c", probeStreamLimit: false, ...settings },
    clock,
  );
}

const ready = (subchannels: FakeSubchannel[]) => {
  for (const s of subchannels) s.set(State.READY);
};

/** Which subchannels `n` picks land on (each pick's call started and ended at once). */
function picks(helper: FakeHelper, n: number): Map<FakeSubchannel, number> {
  const tally = new Map<FakeSubchannel, number>();
  for (let i = 0; i < n; i++) {
    const { result, fake } = helper.pick();
    expect(result.pickResultType).toBe(experimental.PickResultType.COMPLETE);
    result.onCallStarted?.();
    result.onCallEnded?.(0, "", undefined as never);
    tally.set(fake!, (tally.get(fake!) ?? 0) + 1);
  }
  return tally;
}

describe("connections per strategy", () => {
  test("pool(2) over two addresses: four connections, each its own subchannel", async () => {
    const { helper, update, stats } = balancer({ mode: "pool", size: 2, pick: "roundRobin" });
    update("10.0.0.1:80", "10.0.0.2:80");
    expect(helper.subchannels).toHaveLength(4);
    expect(new Set(helper.subchannels.map((s) => s.args["balanced-grpc.connection"])).size).toBe(4);
    await new Promise(process.nextTick); // grpc-js's pick_first connects on the next tick
    expect(helper.subchannels.every((s) => s.connects > 0)).toBe(true); // all connect at once
    expect(helper.state).toBe(State.CONNECTING);
    ready(helper.subchannels);
    expect(helper.state).toBe(State.READY);
    expect([...picks(helper, 400).values()]).toEqual([100, 100, 100, 100]);
    expect(stats().map((c) => [c.address, c.state, c.role])).toEqual([
      ["10.0.0.1:80", "READY", "serving"],
      ["10.0.0.1:80", "READY", "serving"],
      ["10.0.0.2:80", "READY", "serving"],
      ["10.0.0.2:80", "READY", "serving"],
    ]);
    expect(stats().reduce((n, c) => n + c.completed, 0)).toBe(400);
  });

  test("roundRobin: one connection per address, in turn", () => {
    const { helper, update } = balancer({ mode: "roundRobin", pick: "roundRobin" });
    update("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
    expect(helper.subchannels).toHaveLength(3);
    ready(helper.subchannels);
    expect([...picks(helper, 300).values()]).toEqual([100, 100, 100]);
  });

  test("pickFirst: one connection, to the first address that connects", () => {
    const { helper, update, stats } = balancer({ mode: "pickFirst", pick: "roundRobin" });
    update("10.0.0.1:80", "10.0.0.2:80");
    const [first, second] = helper.subchannels;
    first!.set(State.TRANSIENT_FAILURE); // the first address is down: the next is tried
    second!.set(State.READY);
    expect(helper.state).toBe(State.READY);
    expect([...picks(helper, 10).keys()]).toEqual([second]);
    expect(stats()).toHaveLength(1);
    expect(stats()[0]!.address).toBe("10.0.0.2:80");
  });
});

describe("what is picked", () => {
  test("only ready connections; a failing one is skipped while others are ready", () => {
    const { helper, update } = balancer({ mode: "pool", size: 1, pick: "roundRobin" });
    update("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
    ready(helper.subchannels);
    const [a, b, c] = helper.subchannels;
    b!.set(State.TRANSIENT_FAILURE);
    expect(new Set(picks(helper, 100).keys())).toEqual(new Set([a, c]));
    expect(helper.reresolutions).toBeGreaterThan(0); // a connection dropped: look for backends again
  });

  test("none ready: the channel waits while any connects, and fails with the reason once all failed", () => {
    const { helper, update } = balancer({ mode: "pool", size: 1 });
    update("10.0.0.1:80", "10.0.0.2:80");
    const [a, b] = helper.subchannels;
    a!.set(State.TRANSIENT_FAILURE);
    expect(helper.state).toBe(State.CONNECTING);
    expect(helper.pick().result.pickResultType).toBe(experimental.PickResultType.QUEUE);
    b!.set(State.TRANSIENT_FAILURE);
    expect(helper.state).toBe(State.TRANSIENT_FAILURE);
    const { result } = helper.pick();
    expect(result.pickResultType).toBe(experimental.PickResultType.TRANSIENT_FAILURE);
    expect(result.status?.details).toMatch(/balanced-grpc: No connection established/);
  });

  test("a new address gets connections; a removed one's close once their calls end", () => {
    const { helper, update, stats } = balancer({ mode: "pool", size: 2, pick: "roundRobin" });
    update("10.0.0.1:80", "10.0.0.2:80");
    ready(helper.subchannels);
    // A call in flight on each of the four connections (round robin visits each once).
    const inFlight: (() => void)[] = [];
    for (let i = 0; i < 4; i++) {
      const { result, fake } = helper.pick();
      result.onCallStarted?.();
      const end = () => result.onCallEnded?.(0, "", undefined as never);
      if (fake!.address === "10.0.0.2:80") inFlight.push(end);
      else end();
    }
    expect(inFlight).toHaveLength(2);
    update("10.0.0.1:80", "10.0.0.3:80");
    const removed = helper.subchannels.filter((s) => s.address === "10.0.0.2:80");
    const added = helper.subchannels.filter((s) => s.address === "10.0.0.3:80");
    expect(added).toHaveLength(2);
    ready(added);
    expect(stats().filter((c) => c.role === "draining").length).toBeGreaterThan(0);
    for (const s of picks(helper, 200).keys()) expect(s.address).not.toBe("10.0.0.2:80");
    for (const end of inFlight) end();
    expect(removed.every((s) => s.refs === 0)).toBe(true);
    expect(stats().every((c) => c.role === "serving")).toBe(true);
  });
});

describe("client max connection age", () => {
  test("a replacement connects while the old one serves, takes over once ready; the old one closes after its calls", async () => {
    const { helper, update, stats } = balancer({ mode: "pool", size: 1, maxConnectionAgeMs: 30 });
    update("10.0.0.1:80");
    const [old] = helper.subchannels;
    old!.set(State.READY);
    const { result: call } = helper.pick();
    call.onCallStarted?.(); // a call in flight on the old connection
    clock.tick(26); // due at 30 ms ± 10%
    expect(helper.subchannels).toHaveLength(1);
    clock.tick(8);
    await new Promise((resolve) => process.nextTick(resolve)); // grpc-js's pick_first connects on the next tick
    const replacement = helper.subchannels[1]!;
    expect(replacement.state).toBe(State.CONNECTING);
    expect(stats().map((c) => c.role)).toEqual(["serving", "replacement"]);
    expect([...picks(helper, 10).keys()]).toEqual([old]); // not ready yet: the old one serves
    replacement.set(State.READY);
    expect([...picks(helper, 10).keys()]).toEqual([replacement]);
    expect(stats().map((c) => c.role)).toEqual(["serving", "draining"]);
    expect(old!.refs).toBeGreaterThan(0); // its call is still running
    call.onCallEnded?.(0, "", undefined as never);
    expect(old!.refs).toBe(0);
    expect(stats().map((c) => c.role)).toEqual(["serving"]);
    expect(helper.reresolutions).toBeGreaterThan(0); // a recycle also looks for new backends
  });

  test("one connection recycles at a time", () => {
    const { helper, update, stats, handler } = balancer({ mode: "pool", size: 4, maxConnectionAgeMs: 20 });
    update("10.0.0.1:80");
    ready(helper.subchannels);
    clock.tick(100); // every connection is overdue by now
    expect(helper.subchannels).toHaveLength(5); // one replacement, connecting
    expect(stats().filter((c) => c.role === "replacement")).toHaveLength(1);
    helper.subchannels[4]!.set(State.READY);
    clock.tick(1);
    expect(helper.subchannels).toHaveLength(6); // then the next
    handler.destroy();
    expect(helper.subchannels.every((s) => s.refs === 0)).toBe(true); // nothing left open
    expect(clock.pending).toBe(0); // and no timer
  });

  test("a replacement that cannot connect is dropped; the old connection keeps serving", () => {
    const { helper, update, stats, handler } = balancer({ mode: "pool", size: 1, maxConnectionAgeMs: 20 });
    update("10.0.0.1:80");
    const [old] = helper.subchannels;
    old!.set(State.READY);
    clock.tick(30);
    helper.subchannels[1]!.set(State.TRANSIENT_FAILURE);
    expect(stats().map((c) => [c.role, c.state])).toEqual([["serving", "READY"]]);
    expect([...picks(helper, 5).keys()]).toEqual([old]);
    handler.destroy();
  });

  test("while a recycled connection still drains (a long stream), the next of its address waits: one old connection per address", () => {
    const { helper, update, stats, handler } = balancer({ mode: "pool", size: 1, maxConnectionAgeMs: 1_000 });
    update("10.0.0.1:80");
    helper.subchannels[0]!.set(State.READY);
    helper.pick().result.onCallStarted?.(); // a stream that runs for ever
    clock.tick(1_100);
    helper.subchannels[1]!.set(State.READY);
    expect(stats().map((c) => c.role)).toEqual(["serving", "draining"]);
    clock.tick(10_000); // the new one is past its age too, but the old one still drains
    expect(helper.subchannels).toHaveLength(2);
    expect(stats().map((c) => c.role)).toEqual(["serving", "draining"]);
    handler.destroy();
  });

  test("with a grace, the calls still on a recycled connection are cancelled when it runs out", () => {
    const { helper, update, board, handler } = balancer({
      mode: "pool",
      size: 1,
      maxConnectionAgeMs: 1_000,
      maxConnectionAgeGraceMs: 500,
    });
    const cancelled: number[] = [];
    board.serve({ cancelCallsOn: (connection) => cancelled.push(connection) });
    update("10.0.0.1:80");
    helper.subchannels[0]!.set(State.READY);
    helper.pick().result.onCallStarted?.();
    clock.tick(1_100);
    helper.subchannels[1]!.set(State.READY);
    clock.tick(499);
    expect(cancelled).toEqual([]);
    clock.tick(1);
    expect(cancelled).toHaveLength(1);
    handler.destroy();
  });
});
