import { describe, expect, test } from "vitest";
import { Recycler } from "../../src/balancer/recycler.js";
import { FakeClock } from "./fake-clock.js";

function setup(random: () => number = () => 0.5) {
  const clock = new FakeClock();
  const recycled: { id: string; at: number }[] = [];
  const recycler = new Recycler<string>(1_000, (id) => recycled.push({ id, at: clock.time }), clock, random);
  return { clock, recycled, recycler };
}

describe("Recycler", () => {
  test("a connection is due at its max age from when it was ready, with ±10% jitter", () => {
    for (const [random, due] of [
      [0, 900],
      [0.5, 1_000],
      [0.999_999, 1_100],
    ] as const) {
      const { clock, recycled, recycler } = setup(() => random);
      recycler.track("a");
      clock.advance(due - 1);
      expect(recycled).toEqual([]);
      clock.advance(due + 1);
      expect(recycled.map((r) => r.id)).toEqual(["a"]);
      expect(recycled[0]!.at).toBeCloseTo(due, 0);
    }
  });

  test("one at a time: the next due waits until the current recycle is finished", () => {
    const { clock, recycled, recycler } = setup();
    recycler.track("a");
    clock.advance(100);
    recycler.track("b"); // due at 1100
    clock.advance(5_000);
    expect(recycled.map((r) => r.id)).toEqual(["a"]); // b is overdue, but a is not finished
    recycler.finished();
    clock.advance(5_000); // now: b is overdue, so it goes at once
    expect(recycled.map((r) => r.id)).toEqual(["a", "b"]);
    expect(recycled[1]!.at).toBe(5_000);
  });

  test("in order of age", () => {
    const { clock, recycled, recycler } = setup();
    recycler.track("b");
    clock.advance(10);
    recycler.track("a");
    clock.advance(3_000);
    recycler.finished();
    clock.advance(3_000);
    expect(recycled.map((r) => r.id)).toEqual(["b", "a"]);
  });

  test("an untracked connection (closed, failed) is not recycled", () => {
    const { clock, recycled, recycler } = setup();
    recycler.track("a");
    recycler.untrack("a");
    clock.advance(10_000);
    expect(recycled).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  test("a failed replacement is postponed and tried again", () => {
    const { clock, recycled, recycler } = setup();
    recycler.track("a");
    clock.advance(1_000);
    recycler.failed("a", 250);
    clock.advance(1_249);
    expect(recycled).toHaveLength(1);
    clock.advance(1_250);
    expect(recycled.map((r) => r.id)).toEqual(["a", "a"]);
  });

  test("stop() leaves no timer behind", () => {
    const { clock, recycler } = setup();
    recycler.track("a");
    recycler.track("b");
    recycler.stop();
    expect(clock.pending).toBe(0);
    expect(recycler.size).toBe(0);
  });
});
