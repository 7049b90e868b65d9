import { describe, expect, test } from "vitest";
import { createPrng } from "../../harness/chaos/prng.js";

describe("the soak's seeded PRNG", () => {
  const draws = (seed: number, stream: string, n = 50) => {
    const prng = createPrng(seed, stream);
    return Array.from({ length: n }, () => prng.next());
  };

  test("the same seed and stream give the same draws; another seed or stream others", () => {
    expect(draws(42, "faults")).toEqual(draws(42, "faults"));
    expect(draws(42, "faults")).not.toEqual(draws(43, "faults"));
    expect(draws(42, "faults")).not.toEqual(draws(42, "worker-0"));
  });

  test("draws are in range and spread over it", () => {
    const prng = createPrng(7, "range");
    const floats = Array.from({ length: 2_000 }, () => prng.next());
    const ints = Array.from({ length: 2_000 }, () => prng.int(3, 8));
    expect(Math.min(...floats)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...floats)).toBeLessThan(1);
    expect([...new Set(ints)].sort()).toEqual([3, 4, 5, 6, 7, 8]);
  });

  test("weighted draws follow their weights; pick draws from the list; an empty list is refused", () => {
    const prng = createPrng(1, "weights");
    const counts = { a: 0, b: 0, never: 0 };
    for (let i = 0; i < 10_000; i++) counts[prng.weighted({ a: 3, b: 1, never: 0 })]++;
    expect(counts.never).toBe(0);
    expect(counts.a / counts.b).toBeGreaterThan(2.5);
    expect(counts.a / counts.b).toBeLessThan(3.5);
    expect(["x", "y"]).toContain(prng.pick(["x", "y"]));
    expect(() => prng.pick([])).toThrow(RangeError);
  });
});
