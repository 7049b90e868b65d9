import { describe, expect, test } from "vitest";
import { downSpans, type Fault, planFaults } from "../../harness/chaos/fault-schedule.js";
import { createPrng } from "../../harness/chaos/prng.js";

const plan = (seed: number, durationMs = 600_000, backends = 3) =>
  planFaults(createPrng(seed, "faults"), { durationMs, backends });

const onBackend = (faults: Fault[], i: number) => faults.filter((f) => f.backend === i || f.backend === "all");

describe("the soak's fault schedule", () => {
  test("a seed gives the same plan every time; another seed another", () => {
    expect(plan(5)).toEqual(plan(5));
    expect(plan(5)).not.toEqual(plan(6));
  });

  test("over ten minutes every kind is drawn, all within the run", () => {
    const faults = plan(11);
    expect(new Set(faults.map((f) => f.kind))).toEqual(
      new Set(["kill", "goaway", "stall", "failBurst", "hang", "outage"]),
    );
    for (const f of faults) expect(f.at).toBeLessThan(600_000);
  });

  test("faults on one backend never overlap", () => {
    for (const seed of [1, 2, 3]) {
      const faults = plan(seed);
      for (let i = 0; i < 3; i++) {
        const mine = onBackend(faults, i);
        for (let k = 1; k < mine.length; k++) {
          const before = mine[k - 1]!;
          const end = Math.max(before.at + before.durationMs, ...downSpans(before).map((s) => s.to));
          expect(mine[k]!.at).toBeGreaterThanOrEqual(end);
        }
      }
    }
  });

  test("only an outage is planned to take every backend down at once", () => {
    for (const seed of [1, 2, 3]) {
      const faults = plan(seed).filter((f) => f.kind !== "outage");
      // Every moment a fault begins to keep a backend down, some backend is planned up.
      for (const fault of faults) {
        for (const span of downSpans(fault)) {
          const downThen = new Set<number>();
          for (const other of faults) {
            if (other.backend === "all") continue;
            for (const s of downSpans(other)) if (s.from <= span.from && span.from < s.to) downThen.add(other.backend);
          }
          expect(downThen.size).toBeLessThan(3);
        }
      }
    }
  });
});
