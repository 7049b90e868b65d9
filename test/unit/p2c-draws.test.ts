import { expect, test } from "vitest";
import { chooser, type Pickable } from "../../src/balancer/pick.js";

// How p2c draws its second connection, with the random numbers scripted.

let ids = 0;
const connection = (backend: string, cost: number): Pickable => ({
  route: { connection: ++ids, backend },
  backend,
  cost: () => cost,
  available: () => true,
});
const script = (...values: number[]) => {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error("drew more random numbers than scripted");
    return values[i++]!;
  };
};

// Two connections to backend a, one to b. Drawing first 0 (a1), a second
// draw of 0 lands on a2, of 0.99 on b.
const ready = [connection("a", 1), connection("a", 2), connection("b", 0)];

test("the second connection is drawn again, up to three times, to land on another backend", () => {
  expect(chooser("p2c", script(0, 0, 0.99), () => 0)(ready)).toBe(2);
  expect(chooser("p2c", script(0, 0, 0, 0.99), () => 0)(ready)).toBe(2);
});

test("after three draws on the first one's backend, the two are compared as they are", () => {
  // A fourth draw would have found b; three on a leave a1 against a2, and a1 is cheaper.
  expect(chooser("p2c", script(0, 0, 0, 0, 0.99), () => 0)(ready)).toBe(0);
});
