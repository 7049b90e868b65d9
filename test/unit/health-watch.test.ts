import { status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { HealthWatch } from "../../src/balancer/health-watch.js";
import { HEALTH_FIRST_ANSWER_TIMEOUT_MS, HEALTH_WATCH_RETRY } from "../../src/defaults.js";
import {
  decodeHealthCheckRequest,
  encodeHealthCheckResponse,
  ServingStatus as Serving,
  type ServingStatus,
} from "../../src/health/health-proto.js";
import { FakeCall } from "./fake-call.js";
import { FakeClock } from "./fake-clock.js";

// One connection's grpc.health.v1 Watch, over fake grpc-js calls on a fake
// clock: what each answer and each end does, and when it asks again.

const tick = () => new Promise(process.nextTick);

function watch(serviceName = "") {
  const clock = new FakeClock();
  const calls: FakeCall[] = [];
  const channel = {
    createCall: (method: string, deadline: Date | number) => {
      const call = new FakeCall(method, deadline);
      calls.push(call);
      return call as never;
    },
  };
  let changes = 0;
  // random 0.5: no jitter, so the backoff is exact.
  const health = new HealthWatch(
    channel,
    serviceName,
    clock,
    () => changes++,
    () => 0.5,
  );
  const last = () => calls.at(-1)!;
  const say = (s: ServingStatus) => last().message(encodeHealthCheckResponse({ status: s }));
  return { health, clock, calls, last, say, changes: () => changes };
}

describe("a health Watch", () => {
  test("one server stream per watch, asking about the service; not settled until the server answers", () => {
    const { health, calls, last } = watch("shop.orders.v1.Orders");
    expect(calls).toHaveLength(1);
    expect(last().method).toBe("/grpc.health.v1.Health/Watch");
    expect(last().deadline).toBe(Number.POSITIVE_INFINITY);
    expect(decodeHealthCheckRequest(last().sent[0]!)).toEqual({ service: "shop.orders.v1.Orders" });
    expect(last().halfClosed).toBe(true);
    expect(last().reads).toBe(1);
    expect(health).toMatchObject({ settled: false, source: "unknown" });
  });

  test("SERVING, NOT_SERVING, SERVICE_UNKNOWN, UNKNOWN: only SERVING is healthy; each answer is read and the next awaited", () => {
    const { health, say, last, changes } = watch();
    say(Serving.SERVING);
    expect(health).toMatchObject({ settled: true, healthy: true, source: "serving", said: "SERVING" });
    expect(changes()).toBe(1);
    say(Serving.NOT_SERVING);
    expect(health).toMatchObject({ healthy: false, source: "not_serving", said: "NOT_SERVING" });
    say(Serving.SERVICE_UNKNOWN);
    expect(health).toMatchObject({ healthy: false, source: "not_serving", said: "SERVICE_UNKNOWN" });
    say(Serving.UNKNOWN);
    expect(health).toMatchObject({ healthy: false, source: "not_serving", said: "UNKNOWN" });
    say(Serving.SERVING);
    expect(health).toMatchObject({ healthy: true, source: "serving" });
    expect(changes()).toBe(5);
    say(Serving.SERVING); // the same again: no change
    expect(changes()).toBe(5);
    expect(last().reads).toBe(7); // one read at the start, one after each message
  });

  test("UNIMPLEMENTED (no health service): healthy, settled, and never asked again", () => {
    const { health, clock, calls, last, changes } = watch();
    last().end(status.UNIMPLEMENTED, "unknown service grpc.health.v1.Health");
    expect(health).toMatchObject({ settled: true, healthy: true, source: "unimplemented" });
    expect(changes()).toBe(1);
    clock.tick(3_600_000);
    expect(calls).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  test("other ends keep the last health and ask again after 1 s, doubling to 30 s; an answer starts the backoff over", () => {
    const { health, clock, calls, last, say } = watch();
    say(Serving.NOT_SERVING);
    const asked: number[] = [];
    const failAndWait = (code = status.UNAVAILABLE) => {
      last().end(code, "gone");
      const before = calls.length;
      const from = clock.time;
      while (calls.length === before) clock.tick(100);
      asked.push(clock.time - from);
    };
    for (let i = 0; i < 7; i++) failAndWait();
    expect(asked).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(health).toMatchObject({ healthy: false, source: "not_serving" }); // kept all along
    // A Watch that answered, then ended (even with OK): 1 s again, not at once.
    say(Serving.SERVING);
    asked.length = 0;
    failAndWait(status.OK);
    failAndWait(status.INTERNAL);
    expect(asked).toEqual([HEALTH_WATCH_RETRY.firstMs, 2_000]);
    expect(health).toMatchObject({ healthy: true, source: "serving" });
  });

  test("never a storm: a server that answers each Watch once and ends it is asked about once a second", () => {
    const { clock, calls, say, last } = watch();
    for (let second = 0; second < 60; second++) {
      say(Serving.SERVING);
      last().end(status.OK, "");
      clock.tick(1_000);
    }
    expect(calls.length).toBeLessThanOrEqual(61);
  });

  test("a first Watch that fails before any answer lets the connection take calls (health unknown)", () => {
    const { health, changes, last } = watch();
    last().end(status.UNAVAILABLE, "Subchannel not ready");
    expect(health).toMatchObject({ settled: true, healthy: true, source: "unknown" });
    expect(changes()).toBe(1);
  });

  test(`no answer within ${HEALTH_FIRST_ANSWER_TIMEOUT_MS} ms: settled as unknown; a later answer still counts`, () => {
    const { health, clock, say, changes } = watch();
    clock.tick(HEALTH_FIRST_ANSWER_TIMEOUT_MS - 1);
    expect(health.settled).toBe(false);
    clock.tick(1);
    expect(health).toMatchObject({ settled: true, healthy: true, source: "unknown" });
    say(Serving.NOT_SERVING);
    expect(health).toMatchObject({ healthy: false, source: "not_serving" });
    expect(changes()).toBe(2);
  });

  test("an answer in time leaves no timer behind", () => {
    const { clock, say } = watch();
    say(Serving.SERVING);
    expect(clock.pending).toBe(0);
  });

  test("an unreadable answer ends that Watch; it is asked again later", async () => {
    const { health, clock, calls, last } = watch();
    last().message(Buffer.from([0x08])); // a tag with no value
    await tick();
    expect(last().cancelled?.code).toBe(status.INTERNAL);
    expect(health.settled).toBe(true); // the first Watch failed: unknown, takes calls
    clock.tick(HEALTH_WATCH_RETRY.firstMs);
    expect(calls).toHaveLength(2);
  });

  test("a stream that answers after its watch stopped is cancelled again (grpc-js may open it after the first cancel)", () => {
    const { health, last } = watch();
    const call = last();
    let cancels = 0;
    const cancel = call.cancelWithStatus.bind(call);
    call.cancelWithStatus = (code, details) => {
      cancels++;
      cancel(code, details);
    };
    health.stop();
    expect(cancels).toBe(1);
    call.header();
    call.message(encodeHealthCheckResponse({ status: Serving.SERVING }));
    expect(cancels).toBe(3);
    expect(health.settled).toBe(false); // nothing was taken from it
  });

  test("stop: the Watch is cancelled, nothing is reported after, and no timer is left", async () => {
    const { health, clock, calls, last, changes } = watch();
    health.stop();
    expect(last().cancelled?.code).toBe(status.CANCELLED);
    await tick(); // grpc-js ends a cancelled call with its status
    expect(changes()).toBe(0);
    expect(clock.pending).toBe(0);
    clock.tick(60_000);
    expect(calls).toHaveLength(1);
    // Stopped during a backoff: no Watch after it either.
    const other = watch();
    other.last().end(status.UNAVAILABLE, "gone");
    other.health.stop();
    other.clock.tick(60_000);
    expect(other.calls).toHaveLength(1);
    expect(other.clock.pending).toBe(0);
  });
});
