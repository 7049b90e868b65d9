import { describe, expect, test } from "vitest";
import { RttEwma } from "../../src/balancer/latency.js";

// The round-trip estimate p2c weighs connections by, on a clock the test sets.

const DECAY = 1_000;

describe("RttEwma", () => {
  test("0 before the first call; the first call's time as is", () => {
    const rtt = new RttEwma(DECAY);
    expect(rtt.read(5_000)).toBe(0);
    rtt.observe(10, 5_000);
    expect(rtt.read(5_000)).toBe(10);
  });

  test("each sample weighs by the time since the previous one", () => {
    const rtt = new RttEwma(DECAY);
    rtt.observe(10, 5_000);
    rtt.observe(20, 5_000 + DECAY); // one decay later: the old value keeps e^-1
    const keep = Math.exp(-1);
    expect(rtt.read(5_000 + DECAY)).toBeCloseTo(10 * keep + 20 * (1 - keep), 10);
    rtt.observe(40, 5_000 + DECAY); // at the same instant: weighs nothing
    expect(rtt.read(5_000 + DECAY)).toBeCloseTo(10 * keep + 20 * (1 - keep), 10);
  });

  test("a sample stamped before the previous one counts as at the same instant", () => {
    const rtt = new RttEwma(DECAY);
    rtt.observe(10, 5_000);
    rtt.observe(30, 4_000);
    expect(rtt.read(4_000)).toBe(10);
  });

  test("holds for one decay with no call, then fades", () => {
    const rtt = new RttEwma(DECAY);
    rtt.observe(10, 5_000);
    expect(rtt.read(5_000 + DECAY / 2)).toBe(10);
    expect(rtt.read(5_000 + DECAY)).toBe(10);
    expect(rtt.read(5_000 + 2 * DECAY)).toBeCloseTo(10 * Math.exp(-1), 10);
    expect(rtt.read(5_000 + 3 * DECAY)).toBeCloseTo(10 * Math.exp(-2), 10);
  });
});
