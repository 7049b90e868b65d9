import { setTimeout as delay } from "node:timers/promises";
import { expect, test } from "vitest";
import { Recycler } from "../../src/balancer/recycler.js";
import { type Clock, systemClock } from "../../src/clock.js";

// The recycler's order and its one-at-a-time rule in the cases recycler.test.ts
// leaves out, and the real clock it runs on by default.

/** A clock that moves only when told to; timers fire in order of when they are due. */
function fakeClock() {
  let time = 0;
  let timers: { at: number; callback: () => void; id: number }[] = [];
  let lastId = 0;
  const clock: Clock = {
    now: () => time,
    setTimeout: (callback, ms) => {
      timers.push({ at: time + ms, callback, id: ++lastId });
      return lastId;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
  };
  const advance = (to: number) => {
    for (;;) {
      const next = timers.sort((a, b) => a.at - b.at)[0];
      if (!next || next.at > to) break;
      timers.shift();
      time = next.at;
      next.callback();
    }
    time = to;
  };
  return { clock, advance };
}

/** A recycler over connections with a max age of 1 s, no jitter, on a fake clock. */
function setup() {
  const { clock, advance } = fakeClock();
  const recycled: string[] = [];
  const recycler = new Recycler<string>(
    1_000,
    (id) => void recycled.push(id),
    clock,
    () => 0.5,
  );
  return { recycler, recycled, advance };
}

test("connections due at the same instant go in the order they became ready", () => {
  const { recycler, recycled, advance } = setup();
  recycler.track("a");
  recycler.track("b");
  advance(1_000);
  expect(recycled).toEqual(["a"]);
});

test("a connection that becomes ready while another recycles waits for that one to finish", () => {
  const { recycler, recycled, advance } = setup();
  recycler.track("a");
  advance(1_000); // a is being replaced
  recycler.track("b"); // due at 2_000
  advance(10_000);
  expect(recycled).toEqual(["a"]);
  recycler.finished();
  advance(10_000);
  expect(recycled).toEqual(["a", "b"]);
});

test("the real clock's timers fire, can be cleared, and do not keep the process alive", async () => {
  const fired: string[] = [];
  const kept = systemClock.setTimeout(() => fired.push("kept"), 5) as NodeJS.Timeout;
  const cleared = systemClock.setTimeout(() => fired.push("cleared"), 5);
  expect(kept.hasRef()).toBe(false);
  systemClock.clearTimeout(cleared);
  await delay(30);
  expect(fired).toEqual(["kept"]);
  const before = performance.now();
  expect(systemClock.now()).toBeGreaterThanOrEqual(before);
});
