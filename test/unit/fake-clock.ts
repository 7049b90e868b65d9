import type { Clock } from "../../src/clock.js";

/** A clock that moves only when the test says: timers fire in order, never late, never early. */
export class FakeClock implements Clock {
  /** @param time where it starts (the calls' clock reads epoch ms; the balancer's, from 0). */
  constructor(public time = 0) {}
  private timers: { at: number; callback: () => void; id: number }[] = [];
  private lastId = 0;
  now = () => this.time;
  setTimeout = (callback: () => void, ms: number) => {
    const id = ++this.lastId;
    this.timers.push({ at: this.time + ms, callback, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers = this.timers.filter((t) => t.id !== id);
  };
  /** Moves to `to`, firing the timers due on the way. */
  advance(to: number): void {
    for (;;) {
      const next = this.timers.sort((a, b) => a.at - b.at)[0];
      if (!next || next.at > to) break;
      this.timers.shift();
      this.time = next.at;
      next.callback();
    }
    this.time = to;
  }
  /** Moves `ms` on, firing the timers due on the way. */
  tick(ms: number): void {
    this.advance(this.time + ms);
  }
  get pending(): number {
    return this.timers.length;
  }
}
