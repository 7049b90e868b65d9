import { describe, expect, test } from "vitest";
import { type AddressLoad, PoolSizer } from "../../src/balancer/pool-sizer.js";
import { FakeClock } from "./fake-clock.js";

/** A pool of one address whose calls the test sets; shrinking drains at once unless told otherwise. */
function setup(idleMs = 1_000) {
  const clock = new FakeClock();
  const pool = { connections: 3, limit: 10, calls: 0, shrinking: false, shrinks: [] as number[] };
  const view = {
    *aboveMin(): Iterable<AddressLoad> {
      if (pool.connections > 1) yield { key: "a", ...pool, peakCalls: pool.calls };
    },
    shrink: () => {
      pool.shrinks.push(clock.time);
      pool.connections--;
    },
  };
  const sizer = new PoolSizer(idleMs, view, clock);
  return { clock, pool, sizer };
}

describe("PoolSizer", () => {
  test("an address loses one connection per idle period while its calls fit in one fewer, down to the minimum", () => {
    const { clock, pool, sizer } = setup();
    sizer.wake();
    pool.calls = 15; // fits in 2 connections of 10, not in 1
    clock.advance(10_000);
    // The first look that fits starts the period (looks every 250 ms): 250 + 1000.
    expect(pool.shrinks).toEqual([1_250]);
    expect(pool.connections).toBe(2);
    pool.calls = 0;
    clock.advance(20_000);
    expect(pool.connections).toBe(1);
    expect(clock.pending).toBe(0); // at the minimum, nothing to look at: no timer
  });

  test("a peak above what one fewer connection carries starts the period again", () => {
    const { clock, pool, sizer } = setup();
    sizer.wake();
    clock.advance(900);
    pool.calls = 25; // needs all 3
    clock.advance(1_000);
    pool.calls = 0;
    clock.advance(2_000);
    expect(pool.shrinks).toEqual([]);
    clock.advance(2_250);
    expect(pool.shrinks).toEqual([2_250]);
  });

  test("nothing more is taken while a connection drains for size", () => {
    const { clock, pool, sizer } = setup();
    pool.shrinking = true;
    sizer.wake();
    clock.advance(5_000);
    expect(pool.shrinks).toEqual([]);
    pool.shrinking = false;
    clock.advance(6_250);
    expect(pool.shrinks).toEqual([6_250]);
  });

  test("stop() cancels its timer", () => {
    const { clock, sizer } = setup();
    sizer.wake();
    sizer.stop();
    expect(clock.pending).toBe(0);
  });
});
