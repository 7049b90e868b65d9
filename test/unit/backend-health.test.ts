import { status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { BackendHealth, isBackendFailure } from "../../src/balancer/backend-health.js";

const settings = { consecutiveFailures: 5, baseEjectionMs: 1_000, maxEjectionMs: 8_000 };
/** No jitter: ejections last exactly their time. */
const health = () => new BackendHealth(settings, () => 0.5);
const fail = (h: BackendHealth, now: number, n = 1) => {
  for (let i = 0; i < n; i++) h.ended(status.UNAVAILABLE, "down", now);
};

describe("which statuses are the backend's failures", () => {
  test.each([
    [status.UNAVAILABLE, "connection reset", true],
    [status.INTERNAL, "", true],
    [status.UNKNOWN, "", true],
    [status.RESOURCE_EXHAUSTED, "", true],
    [status.UNIMPLEMENTED, "", true],
    [status.DATA_LOSS, "", true],
    [status.UNAVAILABLE, "Stream refused by server", false], // a connection closing: never processed
    [status.CANCELLED, "", false],
    [status.DEADLINE_EXCEEDED, "", false],
    [status.NOT_FOUND, "", false],
    [status.INVALID_ARGUMENT, "", false],
    [status.PERMISSION_DENIED, "", false],
    [status.OK, "", false],
  ])("%i %j → %s", (code, details, failure) => {
    expect(isBackendFailure(code, details)).toBe(failure);
  });
});

describe("failure accrual", () => {
  test("5 failures in a row take it out; after the ejection one probe goes; a failed probe doubles the time; a success brings it back", () => {
    const h = health();
    fail(h, 0, 4);
    expect(h.available(0)).toBe(true);
    fail(h, 0);
    expect(h.available(0)).toBe(false);
    expect(h.available(999)).toBe(false);
    expect(h.available(1_000)).toBe(true); // its time is up: a probe may go
    h.picked(1_000);
    expect(h.available(1_001)).toBe(false); // one probe at a time
    fail(h, 1_010); // the probe failed
    expect(h.available(2_999)).toBe(false);
    expect(h.available(3_010)).toBe(true); // out for 2 s this time
    h.picked(3_010);
    h.ended(status.OK, "", 3_020);
    expect(h.available(3_020)).toBe(true);
    fail(h, 3_030, 4);
    expect(h.available(3_030)).toBe(true); // the count started again
  });

  test("ejections grow up to the maximum", () => {
    const h = health();
    fail(h, 0, 5);
    let now = 0;
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      let out = now;
      while (!h.available(out)) out += 100;
      times.push(out - now);
      now = out;
      h.picked(now);
      fail(h, now);
    }
    expect(times).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  test("what the caller ended (CANCELLED, DEADLINE_EXCEEDED) or the application answered does not count; a probe that told nothing lets another go", () => {
    const h = health();
    fail(h, 0, 4);
    h.ended(status.CANCELLED, "", 0);
    h.ended(status.DEADLINE_EXCEEDED, "", 0);
    h.ended(status.NOT_FOUND, "", 0);
    fail(h, 0);
    expect(h.available(0)).toBe(false); // 5 failures in a row: the others were not successes either
    h.picked(1_000);
    expect(h.available(1_000)).toBe(false);
    h.ended(status.CANCELLED, "", 1_000);
    expect(h.available(1_000)).toBe(true);
  });

  test("the failure score weighs in p2c's cost and fades with successes", () => {
    const h = new BackendHealth(settings);
    expect(h.penalty).toBe(1);
    fail(h, 0, 4); // short of an ejection
    expect(h.penalty).toBeGreaterThan(10);
    for (let i = 0; i < 20; i++) h.ended(status.OK, "", 0);
    expect(h.penalty).toBeLessThan(1.5);
  });

  test("with failure accrual off, failures change no pick: no ejection, no score", () => {
    const h = new BackendHealth(false);
    fail(h, 0, 20);
    expect(h.available(0)).toBe(true);
    expect(h.penalty).toBe(1);
  });
});
