import { experimental, Metadata, connectivityState as State, status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { attachNote, avoiding } from "../../src/balancer/pick-note.js";
import { endpoints, FakeHelper, type FakeSubchannel } from "./fake-subchannel.js";
import { policyConfig, policyUnderTest } from "./policy-under-test.js";

// The policy's lifecycle and its failure-aware picks, driven as grpc-js
// drives it (its public load-balancer API) over fake subchannels.

const accrual = { consecutiveFailures: 3, baseEjectionMs: 60_000, maxEjectionMs: 60_000 };

const settingsOf = (settings: Record<string, unknown> = {}) => ({
  mode: "roundRobin",
  min: 1,
  max: 1,
  idleMs: 30_000,
  pick: "roundRobin",
  probeStreamLimit: false,
  failureAccrual: accrual,
  ...settings,
});

function balancer(settings: Record<string, unknown> = {}) {
  const made = policyUnderTest(settingsOf(settings));
  return { ...made, update: (list: ReturnType<typeof endpoints>) => made.resolve(list) };
}

/** Picks once with `metadata` and ends the call with `code` at once; returns the subchannel it went to. */
function call(helper: FakeHelper, code: number = status.OK, metadata = new Metadata()): FakeSubchannel | undefined {
  const result = helper.picker!.pick({ metadata, extraPickInfo: {} });
  expect(result.pickResultType).toBe(experimental.PickResultType.COMPLETE);
  result.onCallStarted?.();
  result.onCallEnded?.(code, code === status.OK ? "" : "down", new Metadata());
  return helper.subchannels.find((s) => s.self === result.subchannel?.getRealSubchannel());
}

const ready = (helper: FakeHelper) => {
  for (const s of helper.subchannels) s.set(State.READY);
};

describe("failure-aware picks in the policy", () => {
  test.each(["roundRobin", "p2c"])(
    "%s: a backend that failed 3 calls in a row gets none while another is ready",
    (pick) => {
      const { helper, update } = balancer({ pick, mode: "pool" });
      update(endpoints("10.0.0.1:80", "10.0.0.2:80"));
      ready(helper);
      const bad = helper.subchannels[0]!;
      // Each call ends as its backend answers: the bad one with UNAVAILABLE.
      const run = (n: number) => {
        const tally = new Map<FakeSubchannel | undefined, number>();
        for (let i = 0; i < n; i++) {
          const result = helper.picker!.pick({ metadata: new Metadata(), extraPickInfo: {} });
          const to = helper.subchannels.find((s) => s.self === result.subchannel?.getRealSubchannel());
          result.onCallStarted?.();
          result.onCallEnded?.(to === bad ? status.UNAVAILABLE : status.OK, "x", new Metadata());
          tally.set(to, (tally.get(to) ?? 0) + 1);
        }
        return tally;
      };
      if (pick === "roundRobin") {
        // Round robin takes its turns until the third failure in a row takes it out.
        expect(run(20).get(bad)).toBe(3);
      } else {
        // p2c's cost weighs each failure in (with real round-trip times), so it
        // may stop choosing the bad one before a third failure: steer three
        // calls to it, as retries avoiding the good one would.
        for (let i = 0; i < 3; i++) {
          const metadata = new Metadata();
          attachNote(metadata, avoiding([{ connection: -1, backend: "10.0.0.2:80" }]));
          expect(call(helper, status.UNAVAILABLE, metadata)).toBe(bad);
        }
      }
      const tally = run(200);
      expect(tally.get(bad) ?? 0).toBe(0);
      expect(tally.get(helper.subchannels[1])).toBe(200);
    },
  );

  test("with failure accrual off, the backend stays in round robin's turns", () => {
    const { helper, update } = balancer({ failureAccrual: false });
    update(endpoints("10.0.0.1:80", "10.0.0.2:80"));
    ready(helper);
    const bad = helper.subchannels[0]!;
    let toBad = 0;
    for (let i = 0; i < 100; i++) {
      const result = helper.picker!.pick({ metadata: new Metadata(), extraPickInfo: {} });
      const to = helper.subchannels.find((s) => s.self === result.subchannel?.getRealSubchannel());
      if (to === bad) toBad++;
      result.onCallStarted?.();
      result.onCallEnded?.(to === bad ? status.UNAVAILABLE : status.OK, "x", new Metadata());
    }
    expect(toBad).toBe(50);
  });

  test("a call's pick passes over the backends its metadata options name", () => {
    const { helper, update } = balancer();
    update(endpoints("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"));
    ready(helper);
    for (let i = 0; i < 30; i++) {
      const metadata = new Metadata();
      attachNote(
        metadata,
        avoiding([
          { connection: -1, backend: "10.0.0.1:80" },
          { connection: -2, backend: "10.0.0.3:80" },
        ]),
      );
      expect(call(helper, status.OK, metadata)?.address).toBe("10.0.0.2:80");
    }
  });
});

describe("the policy's lifecycle", () => {
  test("a config that is not its own is refused; its type name is its config's", () => {
    const helper = new FakeHelper();
    const handler = new experimental.ChildLoadBalancerHandler(helper);
    expect(handler.getTypeName()).toBeDefined();
    const { handler: ours } = balancer();
    expect(ours.getTypeName()).toBe("child_load_balancer_helper");
  });

  test("a resolution error before any connection: TRANSIENT_FAILURE with its details; after, ignored", () => {
    const { helper, update } = balancer();
    update(experimental.statusOrFromError({ code: status.UNAVAILABLE, details: "DNS says no" }));
    expect(helper.state).toBe(State.TRANSIENT_FAILURE);
    expect(helper.picker!.pick({ metadata: new Metadata(), extraPickInfo: {} }).status?.details).toMatch(/DNS says no/);
    const other = balancer();
    other.update(endpoints("10.0.0.1:80"));
    ready(other.helper);
    other.update(experimental.statusOrFromError({ code: status.UNAVAILABLE, details: "later" }));
    expect(other.helper.state).toBe(State.READY);
  });

  test("no addresses: every connection is retired and the channel fails, naming the resolution note", () => {
    const { helper, update, stats } = balancer();
    update(endpoints("10.0.0.1:80"));
    ready(helper);
    update(endpoints());
    expect(helper.state).toBe(State.TRANSIENT_FAILURE);
    expect(helper.picker!.pick({ metadata: new Metadata(), extraPickInfo: {} }).status?.details).toMatch(
      /No addresses resolved\. Resolution note: note/,
    );
    expect(stats().every((c) => c.role === "draining")).toBe(true);
  });

  test("destroy(): every connection closed, nothing reported any more", () => {
    const { helper, handler, update, stats } = balancer({ mode: "pool", min: 2, max: 2 });
    update(endpoints("10.0.0.1:80", "10.0.0.2:80"));
    ready(helper);
    expect(stats()).toHaveLength(4);
    handler.destroy();
    expect(stats()).toEqual([]);
    expect(helper.subchannels.every((s) => s.refs === 0)).toBe(true);
  });

  test("stats(): the pool size of each connection's address; a dropped ready connection asks for a new resolution", () => {
    const { helper, update, stats } = balancer({ mode: "pool", min: 2, max: 2 });
    update(endpoints("10.0.0.1:80", "10.0.0.2:80"));
    ready(helper);
    expect(stats().map((c) => c.poolSize)).toEqual([2, 2, 2, 2]);
    const before = helper.reresolutions;
    helper.subchannels[0]!.set(State.IDLE);
    expect(helper.reresolutions).toBeGreaterThan(before);
  });

  test("pickFirst: a backend that failure accrual takes out is left for the next address", async () => {
    const { helper, update, stats } = balancer({ mode: "pickFirst", healthCheck: false });
    update(endpoints("10.0.0.1:80", "10.0.0.2:80"));
    await new Promise(process.nextTick);
    helper.subchannels[0]!.set(State.READY);
    expect(stats().map((c) => c.address)).toEqual(["10.0.0.1:80"]);
    // Three failures in a row: out. The one connection moves on: a replacement to the next address.
    for (let i = 0; i < 3; i++) expect(call(helper, status.UNAVAILABLE)?.address).toBe("10.0.0.1:80");
    await new Promise(process.nextTick);
    expect(helper.subchannels.filter((s) => s.address === "10.0.0.2:80")).toHaveLength(2);
    const next = helper.subchannels.findLast((s) => s.address === "10.0.0.2:80")!; // the replacement's
    expect(next).toBeDefined();
    next.set(State.READY);
    expect(stats().map((c) => [c.address, c.role])).toEqual([["10.0.0.2:80", "serving"]]);
    expect(call(helper)?.address).toBe("10.0.0.2:80");
  });

  test("pickFirst: one connection over every address, kept across resolutions", async () => {
    const { update, stats } = balancer({ mode: "pickFirst" });
    update(endpoints("10.0.0.1:80", "10.0.0.2:80"));
    await new Promise(process.nextTick);
    expect(stats()).toHaveLength(1);
    update(endpoints("10.0.0.2:80", "10.0.0.3:80"));
    expect(stats()).toHaveLength(1);
  });
});

describe("backend health in the policy", () => {
  /** Ends `n` calls with `code` on whichever connection each is picked for; returns where they went. */
  function calls(helper: FakeHelper, n: number, code: (to: FakeSubchannel | undefined) => number) {
    const went: (FakeSubchannel | undefined)[] = [];
    for (let i = 0; i < n; i++) {
      const result = helper.picker!.pick({ metadata: new Metadata(), extraPickInfo: {} });
      const to = helper.subchannels.find((s) => s.self === result.subchannel?.getRealSubchannel());
      result.onCallStarted?.();
      result.onCallEnded?.(code(to), "x", new Metadata());
      went.push(to);
    }
    return went;
  }

  test("per connection: each connection to a failing backend is taken out by its own failures", () => {
    const { helper, update } = balancer({ mode: "pool", min: 2, max: 2 });
    update(endpoints("10.0.0.1:80", "10.0.0.2:80"));
    ready(helper);
    const bad = (s: FakeSubchannel | undefined) => s?.address === "10.0.0.1:80";
    // Three failures in a row on each of the backend's two connections take both out.
    calls(helper, 40, (s) => (bad(s) ? status.UNAVAILABLE : status.OK));
    const after = calls(helper, 100, (s) => (bad(s) ? status.UNAVAILABLE : status.OK));
    expect(after.filter(bad)).toHaveLength(0);
  });

  test("a backend that leaves the resolution is forgotten: back later, it starts healthy", () => {
    const { helper, update } = balancer();
    update(endpoints("10.0.0.1:80", "10.0.0.2:80"));
    ready(helper);
    const isBad = (s: FakeSubchannel | undefined) => s?.address === "10.0.0.1:80";
    calls(helper, 20, (s) => (isBad(s) ? status.UNAVAILABLE : status.OK));
    expect(calls(helper, 20, () => status.OK).filter(isBad)).toHaveLength(0);
    update(endpoints("10.0.0.2:80"));
    update(endpoints("10.0.0.1:80", "10.0.0.2:80"));
    for (const s of helper.subchannels) if (s.address === "10.0.0.1:80" && s.refs > 0) s.set(State.READY);
    expect(calls(helper, 20, () => status.OK).filter(isBad).length).toBeGreaterThan(0);
  });

  test("new settings start every backend's health afresh", () => {
    const made = balancer();
    made.update(endpoints("10.0.0.1:80", "10.0.0.2:80"));
    ready(made.helper);
    const isBad = (s: FakeSubchannel | undefined) => s?.address === "10.0.0.1:80";
    calls(made.helper, 20, (s) => (isBad(s) ? status.UNAVAILABLE : status.OK));
    expect(calls(made.helper, 20, () => status.OK).filter(isBad)).toHaveLength(0);
    const changed = policyConfig(settingsOf({ failureAccrual: { ...accrual, consecutiveFailures: 4 } }));
    made.resolve(endpoints("10.0.0.1:80", "10.0.0.2:80"), changed);
    expect(calls(made.helper, 20, () => status.OK).filter(isBad).length).toBeGreaterThan(0);
  });

  test("a connection that a policy above ejects (outlier detection) is passed over while another suits, and used when none does", async () => {
    const { helper, update, stats } = balancer({ mode: "roundRobin", healthCheck: false, failureAccrual: false });
    // As grpc-js's outlier_detection does: it wraps each subchannel it makes, and ejects by its health.
    class Ejectable extends experimental.BaseSubchannelWrapper {
      eject(ejected: boolean): void {
        this.setHealthy(!ejected);
      }
    }
    const wrappers = new Map<string, Ejectable>();
    const make = helper.createSubchannel.bind(helper);
    helper.createSubchannel = (address, args) => {
      const wrapper = new Ejectable(make(address, args));
      wrappers.set(experimental.subchannelAddressToString(address), wrapper);
      return wrapper;
    };
    update(endpoints("10.0.0.1:80", "10.0.0.2:80"));
    ready(helper);
    wrappers.get("10.0.0.1:80")!.eject(true);
    for (let i = 0; i < 10; i++) expect(call(helper)?.address).toBe("10.0.0.2:80");
    expect(stats().map((c) => c.state)).toEqual(["READY", "READY"]); // the ejected one's leaf stays ready
    // The other backend goes down: calls go to the ejected one rather than fail.
    helper.subchannels.find((s) => s.address === "10.0.0.2:80")!.set(State.TRANSIENT_FAILURE);
    expect(helper.state).toBe(State.READY);
    expect(call(helper)?.address).toBe("10.0.0.1:80");
    // Let back in: it takes its turns again.
    wrappers.get("10.0.0.1:80")!.eject(false);
    await new Promise(process.nextTick);
    helper.subchannels.findLast((s) => s.address === "10.0.0.2:80")!.set(State.READY); // connected again
    expect(stats().map((c) => c.state)).toEqual(["READY", "READY"]);
    const went = new Set(Array.from({ length: 4 }, () => call(helper)?.address));
    expect(went).toEqual(new Set(["10.0.0.1:80", "10.0.0.2:80"]));
  });
});
