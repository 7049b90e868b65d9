import { connectivityState as State, status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { BackendHealth } from "../../src/balancer/backend-health.js";
import { Connection } from "../../src/balancer/connection.js";
import { FakeHelper } from "./fake-subchannel.js";

// A connection with its backend's health, and the health's edges.

const address = (a: string) => ({ host: a.split(":")[0]!, port: Number(a.split(":")[1]) });

async function ready() {
  const helper = new FakeHelper();
  const c = new Connection({ addresses: [address("10.0.0.1:80")] }, helper, {}, "", () => {});
  c.startConnecting();
  await new Promise(process.nextTick);
  helper.subchannels[0]!.set(State.READY);
  return c;
}

const settings = { consecutiveFailures: 1, baseEjectionMs: 1_000, maxEjectionMs: 4_000 };

describe("a connection and its backend's health", () => {
  test("failures weigh in its cost (multiplied, never divided); it is unavailable while its backend is out", async () => {
    const c = await ready();
    c.picked();
    c.startedTimed();
    c.endedTimed(performance.now() - 10, status.OK, "");
    const now = performance.now();
    const healthy = c.cost(now);
    c.health = new BackendHealth({ ...settings, consecutiveFailures: 100 });
    for (let i = 0; i < 5; i++) c.health.ended(status.UNAVAILABLE, "down");
    expect(c.cost(now)).toBeGreaterThan(healthy * 5);
    expect(c.available()).toBe(true);
    c.health = new BackendHealth(settings, () => 0.5);
    c.health.ended(status.UNAVAILABLE, "down", 0);
    expect(c.available(500)).toBe(false);
    expect(c.available(1_000)).toBe(true);
    const none = await ready();
    expect(none.available()).toBe(true);
  });

  test("load and room count the calls picked but not started too", async () => {
    const c = await ready();
    c.setStreamLimit({ value: 2, source: "option" });
    c.picked();
    expect(c.load).toBe(1);
    expect(c.hasRoom()).toBe(true);
    c.started();
    c.picked();
    expect(c.load).toBe(2);
    expect(c.hasRoom()).toBe(false);
    await new Promise((resolve) => setImmediate(resolve)); // picks never started are forgotten
    expect(c.load).toBe(1);
  });

  test("the peak of calls in flight since it was last read", async () => {
    const c = await ready();
    c.started();
    c.started();
    c.started();
    c.ended(0, "");
    expect(c.takePeak()).toBe(3);
    expect(c.takePeak()).toBe(2); // it starts again from the calls in flight
    c.ended(0, "");
    c.ended(0, "");
    expect(c.takePeak()).toBe(2);
    expect(c.takePeak()).toBe(0);
  });
});

describe("backend health's edges", () => {
  test("a probe that never ends lets another go after the longest ejection, not before", () => {
    const h = new BackendHealth(settings, () => 0.5);
    h.ended(status.UNAVAILABLE, "down", 0);
    h.picked(1_000); // the probe
    expect(h.available(1_000 + 4_000)).toBe(false);
    expect(h.available(1_000 + 4_001)).toBe(true);
  });

  test("a pick before its time is up is no probe", () => {
    const h = new BackendHealth(settings, () => 0.5);
    h.ended(status.UNAVAILABLE, "down", 0);
    h.picked(500);
    expect(h.available(1_000)).toBe(true);
  });

  test("the ±10% jitter: with the highest draw an ejection lasts 110%, with the lowest 90%", () => {
    const high = new BackendHealth(settings, () => 1);
    high.ended(status.UNAVAILABLE, "down", 0);
    expect(high.available(1_099)).toBe(false);
    expect(high.available(1_100)).toBe(true);
    const low = new BackendHealth(settings, () => 0);
    low.ended(status.UNAVAILABLE, "down", 0);
    expect(low.available(899)).toBe(false);
    expect(low.available(900)).toBe(true);
  });

  test("each ejection is reported; with accrual off, none ever is", () => {
    let ejections = 0;
    const h = new BackendHealth(
      settings,
      () => 0.5,
      () => ejections++,
    );
    h.ended(status.UNAVAILABLE, "down", 0);
    expect(ejections).toBe(1);
    let off = 0;
    const never = new BackendHealth(
      false,
      () => 0.5,
      () => off++,
    );
    for (let i = 0; i < 50; i++) never.ended(status.UNAVAILABLE, "down", 0);
    expect(off).toBe(0);
    expect(never.available(0)).toBe(true);
  });

  test("a failure while out (a call sent before the ejection) does not take it out for longer", () => {
    const h = new BackendHealth({ ...settings, consecutiveFailures: 2 }, () => 0.5);
    h.ended(status.UNAVAILABLE, "down", 0);
    h.ended(status.UNAVAILABLE, "down", 0);
    h.ended(status.UNAVAILABLE, "down", 10); // in flight before: no new ejection
    expect(h.available(1_000)).toBe(true);
  });

  test("a success while out brings it back at once; a non-failure while out keeps it out", () => {
    const h = new BackendHealth(settings, () => 0.5);
    h.ended(status.UNAVAILABLE, "down", 0);
    h.ended(status.NOT_FOUND, "", 10);
    expect(h.available(20)).toBe(false);
    h.ended(status.OK, "", 20);
    expect(h.available(20)).toBe(true);
  });
});
