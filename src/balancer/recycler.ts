import { type Clock, systemClock } from "../clock.js";
import { MAX_CONNECTION_AGE_JITTER } from "../defaults.js";

/**
 * @internal
 * When each connection is due to be replaced, and one at a time. A connection
 * is tracked from the moment it is ready; it is due at that moment plus the
 * max age, ±10%. When one is due, `recycle(id)` is called, and no other is
 * until the balancer calls {@link finished}: the new connection is ready and
 * the old one draining, or the attempt {@link failed}.
 */
export class Recycler<Id> {
  private readonly due = new Map<Id, number>();
  private busy = false;
  private timer: unknown;

  constructor(
    private readonly maxAgeMs: number,
    private readonly recycle: (id: Id) => void,
    private readonly clock: Clock = systemClock,
    private readonly random: () => number = Math.random,
  ) {}

  /** Starts the age of a connection that just became ready. */
  track(id: Id): void {
    const jitter = 1 + MAX_CONNECTION_AGE_JITTER * (2 * this.random() - 1);
    this.due.set(id, this.clock.now() + this.maxAgeMs * jitter);
    this.arm();
  }

  /** Forgets a connection (closed, failed, or replaced). */
  untrack(id: Id): void {
    this.due.delete(id);
    this.arm();
  }

  /** The recycle in progress could not make a replacement: try this connection again after `delayMs`. */
  failed(id: Id, delayMs: number): void {
    this.due.set(id, this.clock.now() + delayMs);
    this.finished();
  }

  /** The recycle in progress is over; the next due one may start. */
  finished(): void {
    this.busy = false;
    this.arm();
  }

  /** Stops every timer. */
  stop(): void {
    this.due.clear();
    this.disarm();
  }

  /** Connections tracked, for tests. */
  get size(): number {
    return this.due.size;
  }

  private arm(): void {
    this.disarm();
    if (this.busy || this.due.size === 0) return;
    let first: Id | undefined;
    let at = Infinity;
    for (const [id, when] of this.due) {
      if (when < at) {
        at = when;
        first = id;
      }
    }
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.fire(first as Id);
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(id: Id): void {
    if (!this.due.has(id)) {
      this.arm();
      return;
    }
    this.due.delete(id);
    this.busy = true;
    this.recycle(id);
  }
}
