import { connectivityState as State } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import type { Connection } from "../../src/balancer/connection.js";
import { PoolSizing } from "../../src/balancer/pool-sizing.js";
import { FakeClock } from "./fake-clock.js";

// Pool sizing's shrinking half on its own, over connections of one address
// whose calls the test sets (growth is driven through the policy in
// adaptive-pool.test.ts). Shrinking drains at once unless told otherwise.

/** A connection of address "a" as pool sizing sees it: 10 streams, `calls` in flight (and as peak). */
function connection(pool: { calls: number; connections: number }): Connection {
  return {
    key: "a",
    endpoint: { addresses: [] },
    state: State.READY,
    load: 0,
    inFlight: 0,
    callLimit: 10,
    awaitingHealth: false,
    notServing: false,
    isClosed: true,
    hasRoom: () => true,
    // The address's calls, spread: the first connection reports them all.
    takePeak: function (this: Connection) {
      return this === list[0] ? pool.calls : 0;
    },
  } as unknown as Connection;
}
let list: Connection[] = [];

function setup(idleMs = 1_000) {
  const clock = new FakeClock();
  const pool = { connections: 3, calls: 0, draining: 0, shrinks: [] as number[] };
  list = Array.from({ length: pool.connections }, () => connection(pool));
  const sizing = new PoolSizing(
    { min: 1, max: 4, idleMs },
    {
      serving: () => list,
      drainingAt: () => pool.draining,
      open: () => {},
      retire: (victim) => {
        pool.shrinks.push(clock.time);
        list = list.filter((c) => c !== victim);
        pool.connections--;
      },
    },
    clock,
  );
  return { clock, pool, sizing };
}

describe("PoolSizing: shrinking", () => {
  test("an address loses one connection per idle period while its calls fit in one fewer, down to the minimum", () => {
    const { clock, pool, sizing } = setup();
    sizing.wake();
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
    const { clock, pool, sizing } = setup();
    sizing.wake();
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
    const { clock, pool, sizing } = setup();
    const [first] = list;
    (first as { isClosed: boolean }).isClosed = false; // the first one taken keeps draining
    sizing.wake();
    clock.advance(1_250);
    expect(pool.shrinks).toEqual([1_250]);
    clock.advance(10_000); // the clock's time, not a step
    expect(pool.shrinks).toEqual([1_250]);
    sizing.closed(first!);
    clock.advance(12_000);
    // The next look that fits starts a new period: 10,250 + 1,000.
    expect(pool.shrinks).toEqual([1_250, 11_250]);
  });

  test("stop() cancels its timer; a fixed pool never looks", () => {
    const { clock, sizing } = setup();
    sizing.wake();
    sizing.stop();
    expect(clock.pending).toBe(0);
    const fixed = new PoolSizing(
      { min: 2, max: 2, idleMs: 1_000 },
      { serving: () => [], drainingAt: () => 0, open: () => {}, retire: () => {} },
      clock,
    );
    fixed.wake();
    expect(clock.pending).toBe(0);
  });
});
