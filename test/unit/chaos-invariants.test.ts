import { ClientClosedError, ClientError, Status } from "balanced-grpc";
import { describe, expect, test } from "vitest";
import type { CallPlan } from "../../harness/chaos/call-plan.js";
import { Ledger, RunCounter, violationClass } from "../../harness/chaos/invariants.js";
import { judgeCall } from "../../harness/chaos/judge-call.js";
import { reconnectWithinMs } from "../../harness/chaos/limits.js";
import { judgeRss, type RssSample } from "../../harness/chaos/rss.js";
import { BackendTimeline } from "../../harness/chaos/timeline.js";
import { CallWatchdog, type WatchedClient } from "../../harness/chaos/watchdog.js";

const limits = { deadlineSlackMs: 2_000, closeSlackMs: 3_000, maxOpenMs: 20_000 };
const call = (id: string, client: WatchedClient, startedAt: number, deadlineAt?: number) => ({
  id,
  startedAt,
  client,
  what: `${id}'s options`,
  tag: "sayHello",
  ...(deadlineAt === undefined ? {} : { deadlineAt }),
});

describe("the soak's invariant checks", () => {
  test("a call id that runs twice on the servers is a double run, told once with both runs", () => {
    const runs = new RunCounter();
    const ledger = new Ledger(0);
    const seen = (id: string, backend: string, at: number) => {
      const all = runs.ran(id, { backend, method: "/routeguide.RouteGuide/GetFeature", at });
      if (all?.length === 2)
        ledger.violate("no-double-run", at, `${id} ran on ${all.map((r) => r.backend).join(", ")}`);
    };
    seen("c1.w0.1.getFeature", "127.0.0.1", 10);
    seen("c1.w0.2.getFeature", "127.0.0.1", 11);
    expect(ledger.violations).toEqual([]);
    seen("c1.w0.1.getFeature", "127.0.0.2", 12);
    seen("c1.w0.1.getFeature", "127.0.0.3", 13);
    expect(runs.ids).toBe(2);
    expect(ledger.violations.map((v) => v.detail)).toEqual(["c1.w0.1.getFeature ran on 127.0.0.1, 127.0.0.2"]);
  });

  test("the watchdog flags a call unsettled past its deadline + slack, once, and not a settled one", () => {
    const dog = new CallWatchdog(limits);
    const client: WatchedClient = { id: "c1" };
    dog.open(call("stuck", client, 0, 100));
    dog.open(call("fine", client, 0, 100));
    dog.settle("fine");
    expect(dog.sweep(2_000)).toEqual([]);
    const overdue = dog.sweep(2_101);
    expect(overdue.map((o) => [o.id, o.kind])).toEqual([["stuck", "call"]]);
    expect(overdue[0]!.reason).toMatch(/\(sayHello\) not settled 2001 ms after its deadline/);
    expect(dog.sweep(30_000)).toEqual([]);
  });

  test("the watchdog flags calls left open after their client's close() grace, and the close() itself", () => {
    const dog = new CallWatchdog(limits);
    const client: WatchedClient = { id: "c2" };
    dog.open(call("open", client, 0));
    client.closeAt = 1_000;
    client.graceMs = 200;
    dog.closeStarted(client);
    expect(dog.sweep(4_200)).toEqual([]);
    const overdue = dog.sweep(4_201);
    expect(overdue.map((o) => [o.id, o.kind])).toEqual([
      ["open", "call"],
      ["c2", "close"],
    ]);
    expect(overdue[1]!.reason).toMatch(
      /close\(\{ graceMs: 200 \}\) not resolved after 3201 ms; 1 of its calls still open/,
    );
  });

  test("without a deadline or a close, a call is flagged only past the longest a call may run", () => {
    const dog = new CallWatchdog(limits);
    dog.open(call("long", { id: "c3" }, 0));
    expect(dog.sweep(20_000)).toEqual([]);
    expect(dog.sweep(20_001).map((o) => o.id)).toEqual(["long"]);
  });

  test("a failure is blamed on an outage only while every backend was down, within the slack", () => {
    const timeline = new BackendTimeline(2);
    const slack = { before: 100, after: (reason: string) => (reason === "failing" ? 200 : 1_000) };
    timeline.down(0, "killed", 1_000);
    timeline.down(1, "stopped", 2_000);
    timeline.down(1, "failing", 2_500);
    timeline.up(1, "stopped", 3_000); // still failing
    timeline.up(1, "failing", 4_000);
    timeline.up(0, "killed", 5_000);
    expect(timeline.allDown()).toEqual([{ start: 2_000, end: 4_000 }]);
    expect(timeline.outageDuring(1_000, 1_500, slack)).toBeUndefined(); // backend 1 was up
    expect(timeline.outageDuring(1_500, 1_950, slack)).toBeDefined(); // 50 ms before: within the slack
    expect(timeline.outageDuring(4_100, 4_150, slack)).toBeDefined(); // backend 1 stopped failing 100 ms ago
    expect(timeline.outageDuring(4_300, 4_900, slack)).toBeUndefined(); // 300 ms ago: past the slack for failing
    expect(timeline.outageDuring(5_100, 6_000, slack)).toBeUndefined();
    expect(timeline.downtime(6_000)).toEqual([4_000, 2_000]);
  });

  test("a restarted backend counts as down for as long as grpc-js's reconnect backoff may wait", () => {
    expect(reconnectWithinMs(500)).toBe(1_200); // the first wait, 1 s, at its longest
    expect(reconnectWithinMs(2_000)).toBeCloseTo(1_920); // attempts at 0 and 0.8 s: the next wait is 1.6 s
    expect(reconnectWithinMs(6_000)).toBeCloseTo(4_915.2); // after 0, 0.8, 2.08, 4.13 s: 4.096 s
    expect(reconnectWithinMs(10 * 60_000)).toBe(144_000); // capped at 120 s
  });

  test("a call made before close() that fails with ClientClosedError breaks close()'s contract", () => {
    const plan: CallPlan = { kind: "sayHello", waitForReady: false, leaveEarly: false, messages: 1, gapMs: 0, pick: 0 };
    const closed = { error: new ClientClosedError("t"), aborted: false, threw: false, retries: [] };
    expect(judgeCall(plan, closed, { startedAt: 0, endedAt: 50, closeAt: 10 }).kind).toBe("close contract");
    expect(judgeCall(plan, closed, { startedAt: 20, endedAt: 20, closeAt: 10 })).toEqual({
      kind: "expected",
      reason: "client closing",
    });
    const unavailable = {
      error: new ClientError("/x", Status.UNAVAILABLE, "down"),
      aborted: false,
      threw: false,
      retries: [],
    };
    expect(judgeCall(plan, unavailable, { startedAt: 0, endedAt: 5, closeAt: undefined }).kind).toBe("unexplained");
    expect(
      judgeCall({ ...plan, kind: "getFeature" }, unavailable, { startedAt: 0, endedAt: 5, closeAt: undefined }).kind,
    ).toBe("not idempotent");
    expect(
      judgeCall({ ...plan, deadlineMs: 5 }, unavailable, { startedAt: 0, endedAt: 5, closeAt: undefined }),
    ).toEqual({
      kind: "expected",
      reason: "deadline",
    });
  });

  test("violations of one kind fall in one class: ids and numbers blanked, src/ frames kept", () => {
    const evidence = [
      "    at CallLifecycle.trailer (/repo/src/call/call-lifecycle.ts:120:18)",
      "    at ReplayingCall.onReceiveStatus (/repo/src/channel/replaying-call.ts:125:20)",
      "    at Object.onReceiveStatus (/repo/node_modules/@grpc/grpc-js/build/src/resolving-call.js:1:1)",
    ].join("\n");
    const a = {
      invariant: "no-uncaught" as const,
      at: 0,
      t: 0,
      detail: "thrown (call c1.w2.3.sayHello) after 12 ms",
      evidence,
    };
    const b = { ...a, detail: "thrown (call c14.w9.77.sayHello) after 400 ms" };
    expect(violationClass(a)).toBe(violationClass(b));
    expect(violationClass(a)).toBe(
      "no-uncaught: thrown (call <call>) after N ms @ src/call/call-lifecycle.ts:120 … src/channel/replaying-call.ts:125",
    );
  });

  test("RSS is flat within the tolerance; growth past it is flagged; too few samples are not judged", () => {
    const samples = (mb: (i: number) => number, n = 60): RssSample[] =>
      Array.from({ length: n }, (_, i) => ({ at: i * 1_000, rssMb: mb(i), heapMb: 10 }));
    expect(
      judgeRss(
        samples(() => 100),
        10_000,
      ),
    ).toMatchObject({ judged: true, ok: true });
    expect(
      judgeRss(
        samples((i) => 100 + i),
        10_000,
      ),
    ).toMatchObject({ judged: true, ok: false });
    expect(
      judgeRss(
        samples((i) => 100 + i, 14),
        10_000,
      ),
    ).toMatchObject({ judged: false, ok: true });
  });
});
