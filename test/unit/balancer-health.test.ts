import { experimental, connectivityState as State, status } from "@grpc/grpc-js";
import { beforeEach, describe, expect, test } from "vitest";
import { HEALTH_FIRST_ANSWER_TIMEOUT_MS } from "../../src/defaults.js";
import { encodeHealthCheckResponse, ServingStatus as S, type ServingStatus } from "../../src/health/health-proto.js";
import { FakeClock } from "./fake-clock.js";
import type { FakeHelper, FakeSubchannel } from "./fake-subchannel.js";
import { policyUnderTest } from "./policy-under-test.js";

// Client-side health checking in the SDK's policy, driven as grpc-js drives
// it, over fake subchannels whose health Watches (calls on each subchannel's
// own channel) the test answers.

let clock = new FakeClock();
beforeEach(() => {
  clock = new FakeClock();
});

const tick = () => new Promise(process.nextTick);

function balancer({
  size = 1,
  healthCheck = { serviceName: "" } as { serviceName: string } | false,
  ...settings
}: {
  mode: string;
  size?: number;
  max?: number;
  pick?: string;
  healthCheck?: { serviceName: string } | false;
  streamsPerConnection?: number;
  maxConnectionAgeMs?: number;
}) {
  return policyUnderTest(
    {
      min: size,
      max: size,
      idleMs: 30_000,
      pick: "roundRobin",
      probeStreamLimit: false,
      healthCheck,
      ...settings,
    },
    clock,
  );
}

/** The subchannel's server answers its open Watch with `s`. */
const say = (fake: FakeSubchannel, s: ServingStatus) => {
  const watch = fake.calls.at(-1)!;
  expect(watch.method).toBe("/grpc.health.v1.Health/Watch");
  watch.message(encodeHealthCheckResponse({ status: s }));
};

/** Ready, and its server serving. */
const up = (fakes: FakeSubchannel[]) => {
  for (const fake of fakes) {
    fake.set(State.READY);
    say(fake, S.SERVING);
  }
};

/** Which subchannels `n` picks land on (each call started and ended at once). */
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

const pickType = (helper: FakeHelper) => experimental.PickResultType[helper.pick().result.pickResultType];

describe("roundRobin() and pools: picks follow each connection's health", () => {
  test("one Watch per connection, on its own subchannel; a connection takes calls once its server says SERVING", () => {
    const { helper, update, stats } = balancer({ mode: "roundRobin" });
    update("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
    const [a, b, c] = helper.subchannels;
    for (const fake of [a, b, c]) fake!.set(State.READY);
    expect(helper.subchannels.map((s) => s.calls.length)).toEqual([1, 1, 1]);
    // Connected, no answer yet: calls wait (gRFC A17: no race for calls queued on a new connection).
    expect(helper.state).toBe(State.CONNECTING);
    expect(pickType(helper)).toBe("QUEUE");
    expect(stats().map((s) => [s.healthy, s.healthSource])).toEqual(Array(3).fill([false, "unknown"]));
    say(a!, S.SERVING);
    expect(helper.state).toBe(State.READY);
    expect([...picks(helper, 10).keys()]).toEqual([a]);
    say(b!, S.SERVING);
    say(c!, S.SERVING);
    expect([...picks(helper, 300).values()]).toEqual([100, 100, 100]);
    expect(stats().map((s) => [s.healthy, s.healthSource])).toEqual(Array(3).fill([true, "serving"]));
  });

  test("NOT_SERVING: no new calls, calls on it finish; SERVING again: it takes calls at once", () => {
    const { helper, update, stats } = balancer({ mode: "pool", size: 2 });
    update("10.0.0.1:80", "10.0.0.2:80");
    up(helper.subchannels);
    // A call in flight on every connection.
    const running = Array.from({ length: 4 }, () => {
      const { result } = helper.pick();
      result.onCallStarted?.();
      return result;
    });
    const [a1, a2] = helper.subchannels.filter((s) => s.address === "10.0.0.1:80");
    say(a1!, S.NOT_SERVING);
    say(a2!, S.NOT_SERVING);
    for (const fake of picks(helper, 100).keys()) expect(fake.address).toBe("10.0.0.2:80");
    expect(stats().map((s) => [s.address, s.healthy, s.healthSource])).toEqual([
      ["10.0.0.1:80", false, "not_serving"],
      ["10.0.0.1:80", false, "not_serving"],
      ["10.0.0.2:80", true, "serving"],
      ["10.0.0.2:80", true, "serving"],
    ]);
    // The calls already on the not-serving connections end as usual.
    for (const call of running) call.onCallEnded?.(0, "", undefined as never);
    expect(stats().map((s) => s.inFlight)).toEqual([0, 0, 0, 0]);
    expect(stats().reduce((n, s) => n + s.completed, 0)).toBe(104);
    say(a1!, S.SERVING);
    const back = picks(helper, 300);
    expect(back.get(a1!)).toBe(100);
    expect(back.has(a2!)).toBe(false);
  });

  test("SERVICE_UNKNOWN and UNKNOWN count as not serving; UNIMPLEMENTED (no health service) as healthy", () => {
    const { helper, update, stats } = balancer({ mode: "roundRobin", healthCheck: { serviceName: "shop.Orders" } });
    update("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
    const [a, b, c] = helper.subchannels;
    for (const fake of [a, b, c]) fake!.set(State.READY);
    say(a!, S.SERVICE_UNKNOWN);
    say(b!, S.UNKNOWN);
    c!.calls[0]!.end(status.UNIMPLEMENTED, "unknown service grpc.health.v1.Health");
    expect([...picks(helper, 10).keys()]).toEqual([c]);
    expect(stats().map((s) => s.healthSource)).toEqual(["not_serving", "not_serving", "unimplemented"]);
    clock.tick(600_000);
    expect(c!.calls).toHaveLength(1); // never asked again on that connection
  });

  test("no server serving: calls spread over the not-serving ones rather than fail (panic); one serving again takes them all", () => {
    const { helper, update, stats } = balancer({ mode: "pool", size: 2 });
    update("10.0.0.1:80", "10.0.0.2:80");
    up(helper.subchannels);
    const [a1, a2, b1, b2] = helper.subchannels;
    const looks = helper.reresolutions;
    for (const fake of [a1, a2]) say(fake!, S.NOT_SERVING);
    for (const fake of [b1, b2]) say(fake!, S.SERVICE_UNKNOWN);
    expect(helper.reresolutions).toBeGreaterThan(looks); // a server not serving may be on its way out
    expect(helper.state).toBe(State.READY);
    expect([...picks(helper, 400).values()]).toEqual([100, 100, 100, 100]);
    expect(stats().every((c) => !c.healthy && c.healthSource === "not_serving")).toBe(true);
    say(b2!, S.SERVING);
    expect([...picks(helper, 5).keys()]).toEqual([b2]);
  });

  test("some not serving, others connecting: calls go to the not-serving ones, but wait while one awaits its first answer", () => {
    const { helper, update } = balancer({ mode: "roundRobin" });
    update("10.0.0.1:80", "10.0.0.2:80");
    const [a, b] = helper.subchannels;
    a!.set(State.READY);
    say(a!, S.NOT_SERVING);
    b!.set(State.CONNECTING);
    expect([...picks(helper, 2).keys()]).toEqual([a]);
    b!.set(State.READY); // connected; its first answer comes within a round trip
    expect(pickType(helper)).toBe("QUEUE");
    say(b!, S.SERVING);
    expect([...picks(helper, 4).keys()]).toEqual([b]);
  });

  test("a server whose Watch never answers: the connection takes calls after a while anyway (health unknown)", () => {
    const { helper, update, stats } = balancer({ mode: "roundRobin" });
    update("10.0.0.1:80");
    helper.subchannels[0]!.set(State.READY);
    expect(pickType(helper)).toBe("QUEUE");
    clock.tick(HEALTH_FIRST_ANSWER_TIMEOUT_MS);
    expect(pickType(helper)).toBe("COMPLETE");
    expect(stats()[0]).toMatchObject({ healthy: true, healthSource: "unknown" });
  });

  test("a Watch that fails keeps the last health and is made again later, on the same connection", async () => {
    const { helper, update, stats } = balancer({ mode: "roundRobin" });
    update("10.0.0.1:80", "10.0.0.2:80");
    up(helper.subchannels);
    const [a] = helper.subchannels;
    say(a!, S.NOT_SERVING);
    a!.calls[0]!.end(status.INTERNAL, "health service crashed");
    expect(stats()[0]).toMatchObject({ healthy: false, healthSource: "not_serving" });
    expect(a!.calls).toHaveLength(1);
    clock.tick(1_200); // 1 s ± 20%
    expect(a!.calls).toHaveLength(2);
    say(a!, S.SERVING);
    expect(picks(helper, 10).get(a!)).toBe(5);
  });
});

describe("the Watch ends with its connection", () => {
  test("a reconnect (new transport) gets a new Watch; until its first answer the connection takes no calls", () => {
    const { helper, update, stats } = balancer({ mode: "roundRobin" });
    update("10.0.0.1:80", "10.0.0.2:80");
    up(helper.subchannels);
    const [a, b] = helper.subchannels;
    a!.set(State.IDLE); // GOAWAY, max connection age
    expect(a!.calls[0]!.cancelled?.code).toBe(status.CANCELLED);
    expect(stats()[0]).toMatchObject({ healthy: false, healthSource: "unknown" });
    // The leaf connects again (the fake helper hands out a new fake for the same address; grpc-js, the same subchannel).
    const again = helper.subchannels.at(-1)!;
    expect(again.address).toBe("10.0.0.1:80");
    again.set(State.READY);
    expect(again.calls).toHaveLength(1);
    expect([...picks(helper, 4).keys()]).toEqual([b]);
    say(again, S.SERVING);
    expect(picks(helper, 4).get(again)).toBe(2);
  });

  test("the same subchannel connected again (grpc-js reuses it) gets a new Watch on its new transport", () => {
    const { helper, update } = balancer({ mode: "roundRobin" });
    // As grpc-js's subchannel pool does: the same address and options give the same subchannel.
    const made = new Map<string, ReturnType<FakeHelper["createSubchannel"]>>();
    const create = helper.createSubchannel.bind(helper);
    helper.createSubchannel = (address, args) => {
      const key = `${experimental.subchannelAddressToString(address)} ${args["balanced-grpc.connection"]}`;
      const subchannel = made.get(key) ?? create(address, args);
      made.set(key, subchannel);
      return subchannel;
    };
    update("10.0.0.1:80");
    const [a] = helper.subchannels;
    up([a!]);
    a!.set(State.IDLE);
    expect(helper.subchannels).toHaveLength(1);
    a!.set(State.READY);
    expect(a!.calls).toHaveLength(2);
    expect(a!.calls[0]!.cancelled).toBeDefined();
    expect(pickType(helper)).toBe("QUEUE");
    say(a!, S.SERVING);
    expect(pickType(helper)).toBe("COMPLETE");
  });

  test("a connection that drains (pool shrinks, address removed) or closes cancels its Watch; destroy leaves nothing open", () => {
    const { helper, update, handler } = balancer({ mode: "roundRobin" });
    update("10.0.0.1:80", "10.0.0.2:80");
    up(helper.subchannels);
    const [a, b] = helper.subchannels;
    const { result } = helper.pick(); // round robin starts anywhere: find which one it took
    result.onCallStarted?.();
    update("10.0.0.3:80");
    for (const fake of [a, b]) expect(fake!.calls[0]!.cancelled?.code).toBe(status.CANCELLED);
    result.onCallEnded?.(0, "", undefined as never);
    const [c] = helper.subchannels.slice(2);
    up([c!]);
    handler.destroy();
    expect(c!.calls[0]!.cancelled?.code).toBe(status.CANCELLED);
    expect(helper.subchannels.every((s) => s.listening === 0)).toBe(true);
    expect(clock.pending).toBe(0);
  });

  test("healthCheck: false: no Watch, every ready connection takes calls", () => {
    const { helper, update, stats } = balancer({ mode: "roundRobin", healthCheck: false });
    update("10.0.0.1:80", "10.0.0.2:80");
    for (const fake of helper.subchannels) fake.set(State.READY);
    expect(helper.subchannels.map((s) => s.calls.length)).toEqual([0, 0]);
    expect([...picks(helper, 10).values()]).toEqual([5, 5]);
    expect(stats().map((s) => [s.healthy, s.healthSource])).toEqual([
      [true, "unknown"],
      [true, "unknown"],
    ]);
  });
});

describe("stream limits: the Watch takes one of each connection's streams", () => {
  test("with 3 streams per connection, 2 calls fill it; with no health service, 3", async () => {
    const { helper, update } = balancer({ mode: "pool", size: 1, max: 4, streamsPerConnection: 3 });
    update("10.0.0.1:80");
    up(helper.subchannels);
    const start = () => {
      const { result } = helper.pick();
      if (result.pickResultType === experimental.PickResultType.COMPLETE) result.onCallStarted?.();
      return experimental.PickResultType[result.pickResultType];
    };
    expect([start(), start()]).toEqual(["COMPLETE", "COMPLETE"]);
    // Full (2 calls + the Watch): the adaptive pool holds the call for a connection it opens.
    expect(start()).toBe("QUEUE");
    await tick();
    expect(helper.subchannels).toHaveLength(2);

    const other = balancer({ mode: "pool", size: 1, max: 4, streamsPerConnection: 3 });
    other.update("10.0.0.1:80");
    const [fake] = other.helper.subchannels;
    fake!.set(State.READY);
    fake!.calls[0]!.end(status.UNIMPLEMENTED, "");
    for (let i = 0; i < 3; i++) {
      const { result } = other.helper.pick();
      expect(result.pickResultType).toBe(experimental.PickResultType.COMPLETE);
      result.onCallStarted?.();
    }
    expect(other.stats()[0]!.inFlight).toBe(3); // the Watch is no call
  });

  test("a server allowing one stream per connection is not health-checked: the Watch would hold that stream for ever", () => {
    const { helper, update, stats } = balancer({ mode: "pool", size: 1, max: 2, streamsPerConnection: 1 });
    update("10.0.0.1:80");
    const [fake] = helper.subchannels;
    fake!.set(State.READY);
    expect(fake!.calls).toHaveLength(0);
    expect(pickType(helper)).toBe("COMPLETE");
    expect(stats()[0]).toMatchObject({ healthy: true, healthSource: "unknown" });
  });

  test("the pool grows towards backends that serve, not towards one that does not", async () => {
    const { helper, update, stats } = balancer({ mode: "pool", size: 1, max: 4, streamsPerConnection: 2 });
    update("10.0.0.1:80", "10.0.0.2:80");
    up(helper.subchannels);
    const [a] = helper.subchannels;
    say(a!, S.NOT_SERVING);
    for (let i = 0; i < 3; i++) {
      const { result } = helper.pick();
      if (result.pickResultType === experimental.PickResultType.COMPLETE) result.onCallStarted?.();
    }
    await tick();
    const sizes = new Map<string, number>();
    for (const s of stats()) sizes.set(s.address, (sizes.get(s.address) ?? 0) + 1);
    expect(sizes.get("10.0.0.1:80")).toBe(1);
    expect(sizes.get("10.0.0.2:80")).toBeGreaterThan(1);
  });
});

describe("pickFirst(): moves to the next address while its server is not serving", () => {
  test("NOT_SERVING: the next address is connected and takes over once it serves (calls stay on the old one until then); the old one drains", () => {
    const { helper, update, stats } = balancer({ mode: "pickFirst" });
    update("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
    const a = helper.subchannels[0]!;
    up([a]);
    expect([...picks(helper, 3).keys()]).toEqual([a]);
    const { result: running } = helper.pick();
    running.onCallStarted?.();
    say(a, S.NOT_SERVING);
    expect([...picks(helper, 2).keys()]).toEqual([a]); // nowhere else yet (a drain still serves)
    // A replacement over the addresses after it.
    const next = helper.subchannels.filter((s) => s !== a && s.connects > 0);
    return tick().then(() => {
      const b = helper.subchannels.find((s) => s.address === "10.0.0.2:80" && s.state === State.CONNECTING)!;
      expect(b).toBeDefined();
      expect(next.every((s) => s.address !== "10.0.0.1:80")).toBe(true);
      b.set(State.READY);
      expect([...picks(helper, 2).keys()]).toEqual([a]); // its first answer is awaited
      say(b, S.SERVING);
      expect([...picks(helper, 3).keys()]).toEqual([b]);
      expect(stats().map((s) => [s.address, s.role])).toEqual([
        ["10.0.0.2:80", "serving"],
        ["10.0.0.1:80", "draining"],
      ]);
      running.onCallEnded?.(0, "", undefined as never);
      expect(a.refs).toBe(0);
      expect(a.calls[0]!.cancelled).toBeDefined();
    });
  });

  test("the old server serves again before the next is ready: it simply takes calls again", async () => {
    const { helper, update, stats } = balancer({ mode: "pickFirst" });
    update("10.0.0.1:80", "10.0.0.2:80");
    const a = helper.subchannels[0]!;
    up([a]);
    say(a, S.NOT_SERVING);
    await tick();
    say(a, S.SERVING);
    expect([...picks(helper, 3).keys()]).toEqual([a]);
    expect(stats().map((s) => s.address)).toEqual(["10.0.0.1:80"]);
    expect(helper.subchannels.filter((s) => s.address === "10.0.0.2:80").every((s) => s.refs === 0)).toBe(true);
  });

  test("the next address is not serving either: on to the one after", async () => {
    const { helper, update } = balancer({ mode: "pickFirst" });
    update("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80");
    const a = helper.subchannels[0]!;
    up([a]);
    say(a, S.NOT_SERVING);
    await tick();
    const b = helper.subchannels.find((s) => s.address === "10.0.0.2:80" && s.connects > 0)!;
    b.set(State.READY);
    say(b, S.NOT_SERVING);
    await tick();
    const c = helper.subchannels.find((s) => s.address === "10.0.0.3:80" && s.connects > 0 && s.refs > 0)!;
    c.set(State.READY);
    say(c, S.SERVING);
    expect([...picks(helper, 3).keys()]).toEqual([c]);
  });

  test("no address serves: calls stay on the old one; every address is looked at again after 1 s; the old one's own Watch brings it back", async () => {
    const { helper, update } = balancer({ mode: "pickFirst" });
    update("10.0.0.1:80", "10.0.0.2:80");
    const a = helper.subchannels[0]!;
    up([a]);
    say(a, S.NOT_SERVING);
    await tick();
    const b = helper.subchannels.find((s) => s.address === "10.0.0.2:80" && s.connects > 0)!;
    b.set(State.READY);
    say(b, S.NOT_SERVING);
    expect([...picks(helper, 2).keys()]).toEqual([a]);
    const made = helper.subchannels.length;
    clock.tick(1_000);
    await tick();
    expect(helper.subchannels.length).toBeGreaterThan(made); // 10.0.0.2 asked again, on a new connection
    const again = helper.subchannels.find((s) => s.address === "10.0.0.2:80" && s.state === State.CONNECTING)!;
    again.set(State.READY);
    say(again, S.NOT_SERVING);
    clock.tick(1_500); // looking again is backing off: not within 1.5 s
    expect(helper.subchannels.filter((s) => s.refs > 0).map((s) => s.address)).toEqual(["10.0.0.1:80"]);
    say(a, S.SERVING);
    expect([...picks(helper, 2).keys()]).toEqual([a]);
    expect(clock.pending).toBe(0); // no more looking
  });

  test("a single address not serving: calls still go to it (nowhere else to go)", () => {
    const { helper, update, stats } = balancer({ mode: "pickFirst" });
    update("10.0.0.1:80");
    const a = helper.subchannels[0]!;
    up([a]);
    say(a, S.NOT_SERVING);
    expect([...picks(helper, 2).keys()]).toEqual([a]);
    expect(stats()).toMatchObject([{ healthy: false, healthSource: "not_serving" }]);
    expect(helper.subchannels).toHaveLength(1);
  });
});

describe("recycling (client max connection age) with health", () => {
  test("a replacement takes over only once its server answered SERVING; one not serving is dropped and tried again later", () => {
    const { helper, update, stats } = balancer({ mode: "roundRobin", maxConnectionAgeMs: 1_000 });
    update("10.0.0.1:80");
    const old = helper.subchannels[0]!;
    up([old]);
    clock.tick(1_100);
    const next = helper.subchannels[1]!;
    next.set(State.READY);
    expect(stats().map((s) => s.role)).toEqual(["serving", "replacement"]);
    expect([...picks(helper, 2).keys()]).toEqual([old]);
    say(next, S.NOT_SERVING); // behind an L4 balancer, another server
    expect(stats().map((s) => s.role)).toEqual(["serving"]);
    expect(next.calls[0]!.cancelled).toBeDefined();
    clock.tick(1_000);
    const third = helper.subchannels[2]!;
    third.set(State.READY);
    say(third, S.SERVING);
    expect(stats().map((s) => s.role)).toEqual(["serving"]);
    expect([...picks(helper, 2).keys()]).toEqual([third]);
  });
});
