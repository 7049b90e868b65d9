import { describe, expect, test } from "vitest";
import { HedgeDelay } from "../../src/call/hedge-delay.js";

describe('the "auto" hedge delay', () => {
  test("none before 32 calls; then the percentile of recent latencies, at least the floor", () => {
    const delay = new HedgeDelay(0.95, 5);
    for (let i = 1; i <= 31; i++) delay.observe(i);
    expect(delay.ms).toBeUndefined();
    delay.observe(32);
    // Samples 1..32: the 95th percentile is index floor(32 × 0.95) = 30 → 31.
    expect(delay.ms).toBe(31);
    const floor = new HedgeDelay(0.95, 50);
    for (let i = 0; i < 32; i++) floor.observe(1);
    expect(floor.ms).toBe(50);
  });

  test("recomputed every 32 new samples, over the last 256", () => {
    const delay = new HedgeDelay(0.5, 0);
    for (let i = 0; i < 32; i++) delay.observe(10);
    expect(delay.ms).toBe(10);
    for (let i = 0; i < 31; i++) delay.observe(100);
    expect(delay.ms).toBe(10); // not yet
    delay.observe(100);
    expect(delay.ms).toBe(100); // 32 of 10, 32 of 100: the median is the upper half's first
    for (let i = 0; i < 256; i++) delay.observe(7);
    expect(delay.ms).toBe(7); // the old samples were overwritten
  });

  test("the numbers are sorted as numbers, not as text", () => {
    const delay = new HedgeDelay(0.95, 0);
    for (let i = 0; i < 30; i++) delay.observe(9);
    delay.observe(10);
    delay.observe(100);
    // As text, "10" and "100" would sort before "9" and the 95th percentile would be 9.
    expect(delay.ms).toBe(10);
  });
});
