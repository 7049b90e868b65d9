import { describe, expect, test } from "vitest";
import { chooser, type Pickable } from "../../src/balancer/pick.js";
import type { Avoid } from "../../src/balancer/pick-note.js";

/** A seeded random (mulberry32): the same picks on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let ids = 0;
const connection = (backend: string, cost: number, available = true): Pickable => ({
  route: { connection: ++ids, backend },
  backend,
  cost: () => cost,
  available: () => available,
});

/** Avoid these backends (no connection in particular). */
const avoidBackends = (...backends: string[]): Avoid => ({ connections: new Set(), backends: new Set(backends) });

function counts(picks: number, choose: (ready: readonly Pickable[]) => number, ready: readonly Pickable[]): number[] {
  const tally = ready.map(() => 0);
  for (let i = 0; i < picks; i++) tally[choose(ready)]!++;
  return tally;
}

describe("p2c", () => {
  test("alike connections share the calls evenly", () => {
    const ready = ["a", "b", "c", "d"].map((b) => connection(b, 1));
    const tally = counts(
      40_000,
      chooser("p2c", seeded(1), () => 0),
      ready,
    );
    for (const n of tally) expect(n).toBeGreaterThan(9_000);
  });

  test("of two, the cheaper wins: the costliest is never picked, the cheapest most", () => {
    const ready = [connection("a", 1), connection("b", 2), connection("c", 3), connection("d", 4)];
    const tally = counts(
      40_000,
      chooser("p2c", seeded(2), () => 0),
      ready,
    );
    expect(tally[3]).toBe(0);
    // a wins every pair it is in: 3 of the 6 pairs.
    expect(tally[0]! / 40_000).toBeCloseTo(0.5, 1);
    expect(tally[0]).toBeGreaterThan(tally[1]!);
    expect(tally[1]).toBeGreaterThan(tally[2]!);
  });

  test("the two are drawn from different backends when there are several", () => {
    // Two connections per backend; b's are cheap. Drawn blindly, both of a's
    // would be drawn together 1 time in 6 (and one would win); drawn across
    // backends (3 tries), it is 1 in 54.
    const ready = [connection("a", 5), connection("a", 5), connection("b", 1), connection("b", 1)];
    const tally = counts(
      10_000,
      chooser("p2c", seeded(3), () => 0),
      ready,
    );
    expect((tally[0]! + tally[1]!) / 10_000).toBeLessThan(0.03);
  });

  test("behind one address (an L4 balancer) it is plain p2c over the connections", () => {
    const ready = [connection("lb", 3), connection("lb", 1), connection("lb", 2)];
    const tally = counts(
      30_000,
      chooser("p2c", seeded(4), () => 0),
      ready,
    );
    expect(tally[0]).toBe(0); // the costliest loses every pair
    expect(tally[1]).toBeGreaterThan(tally[2]!);
  });

  test("one connection: always it", () => {
    const choose = chooser("p2c", seeded(5), () => 0);
    expect(choose([connection("a", 9)])).toBe(0);
  });
});

describe("roundRobin", () => {
  test("takes the connections in turn, whatever their cost", () => {
    const ready = [connection("a", 1), connection("b", 100), connection("c", 1)];
    const choose = chooser("roundRobin", () => 0);
    expect(Array.from({ length: 6 }, () => choose(ready))).toEqual([0, 1, 2, 0, 1, 2]);
  });

  test("starts at a random place", () => {
    const ready = [connection("a", 1), connection("b", 1), connection("c", 1)];
    expect(chooser("roundRobin", () => 0.5)(ready)).toBe(512 % 3);
  });
});

describe("failure-aware and retry-elsewhere picks", () => {
  const policies = ["p2c", "roundRobin"] as const;

  test.each(policies)("%s: a backend taken out gets no call while another is available", (policy) => {
    const ready = [connection("a", 1), connection("bad", 0, false), connection("b", 1), connection("bad", 0, false)];
    const tally = counts(
      4_000,
      chooser(policy, seeded(11), () => 0),
      ready,
    );
    expect(tally[1]! + tally[3]!).toBe(0);
    expect(tally[0]! + tally[2]!).toBe(4_000);
  });

  test.each(policies)("%s: when every backend is out, calls still go somewhere (no failing closed)", (policy) => {
    const ready = [connection("a", 1, false), connection("b", 1, false)];
    const tally = counts(
      100,
      chooser(policy, seeded(3), () => 0),
      ready,
    );
    expect(tally[0]! + tally[1]!).toBe(100);
  });

  test.each(policies)("%s: backends in `avoid` are passed over while another suits, used when none does", (policy) => {
    const ready = [connection("a", 1), connection("b", 1), connection("c", 1)];
    const choose = chooser(policy, seeded(5), () => 0);
    const avoidAB = avoidBackends("a", "b");
    for (let i = 0; i < 300; i++) expect(ready[choose(ready, avoidAB)]!.backend).toBe("c");
    const avoidAll = avoidBackends("a", "b", "c");
    for (let i = 0; i < 30; i++) expect(["a", "b", "c"]).toContain(ready[choose(ready, avoidAll)]!.backend);
  });

  test("p2c: an avoided or unavailable connection loses to a suitable one even when it is cheaper", () => {
    const ready = [connection("a", 100), connection("b", 0)];
    const choose = chooser("p2c", seeded(9), () => 0);
    const avoid = avoidBackends("b");
    for (let i = 0; i < 100; i++) expect(choose(ready, avoid)).toBe(0);
  });

  test.each(policies)(
    "%s: behind one address (an L4 balancer), a retry passes over the connection it tried, not the backend",
    (policy) => {
      const ready = [connection("lb", 1), connection("lb", 1), connection("lb", 1)];
      const choose = chooser(policy, seeded(13), () => 0);
      const tried: Avoid = { connections: new Set([ready[1]!.route.connection]), backends: new Set(["lb"]) };
      for (let i = 0; i < 300; i++) expect(choose(ready, tried)).not.toBe(1);
    },
  );

  test.each(policies)(
    "%s: what suits less, in order: another backend, then another connection of the same backend, then an unavailable one, then the avoided connection",
    (policy) => {
      const choose = chooser(policy, seeded(17), () => 0);
      const [tried, sibling, other, out] = [
        connection("a", 1),
        connection("a", 1),
        connection("b", 1),
        connection("c", 1, false),
      ];
      const avoid: Avoid = { connections: new Set([tried!.route.connection]), backends: new Set(["a"]) };
      const pickOf = (ready: Pickable[]) => ready[choose(ready, avoid)];
      for (let i = 0; i < 100; i++) {
        expect(pickOf([tried!, sibling!, other!, out!])).toBe(other);
        expect(pickOf([tried!, sibling!, out!])).toBe(sibling);
        expect(pickOf([tried!, out!])).toBe(out);
        expect(pickOf([tried!])).toBe(tried);
      }
    },
  );
});
