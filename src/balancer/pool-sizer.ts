import { type Clock, systemClock } from "../clock.js";

/** One address of an adaptive pool with more connections than its minimum. */
export interface AddressLoad {
  /** The address (its endpoint's key). */
  readonly key: string;
  /** Connections serving it. */
  readonly connections: number;
  /** Most calls in flight on them since the last look (read once: reading starts a new period). */
  readonly peakCalls: number;
  /** Calls one connection carries before more would wait (the server's stream limit). */
  readonly limit: number;
  /** Whether one of them is draining because the pool shrank: then no other is taken. */
  readonly shrinking: boolean;
}

/** What the sizer sees of a pool and what it asks of it. */
export interface SizedPool {
  /** The addresses that have more connections than the pool's minimum. */
  aboveMin(): Iterable<AddressLoad>;
  /** Drains one connection of the address `key`. */
  shrink(key: string): void;
}

/** Looks per idle period: a peak between two looks is never missed (peaks are kept), a quiet period is seen within a quarter of it. */
const LOOKS_PER_IDLE_PERIOD = 4;

/**
 * @internal
 * Shrinks an adaptive pool, slowly: an address loses one connection once its
 * calls in flight have fitted in one connection fewer, at every look, for
 * `idleMs`; then the period starts again, and nothing more is taken while
 * that connection drains. The sizer looks only while some address is above
 * the minimum; its timer never keeps the process alive.
 */
export class PoolSizer {
  private readonly fitSince = new Map<string, number>();
  private timer: unknown;

  constructor(
    private readonly idleMs: number,
    private readonly pool: SizedPool,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The pool grew: start looking, if not already. */
  wake(): void {
    if (this.timer === undefined) this.arm();
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.fitSince.clear();
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => this.look(), Math.max(1, this.idleMs / LOOKS_PER_IDLE_PERIOD));
  }

  private look(): void {
    this.timer = undefined;
    const now = this.clock.now();
    const seen = new Set<string>();
    for (const address of this.pool.aboveMin()) {
      seen.add(address.key);
      const fits = address.peakCalls <= (address.connections - 1) * address.limit;
      if (!fits || address.shrinking) {
        this.fitSince.delete(address.key);
        continue;
      }
      const since = this.fitSince.get(address.key);
      if (since === undefined) {
        this.fitSince.set(address.key, now);
      } else if (now - since >= this.idleMs) {
        this.fitSince.delete(address.key);
        this.pool.shrink(address.key);
      }
    }
    for (const key of this.fitSince.keys()) if (!seen.has(key)) this.fitSince.delete(key);
    if (seen.size > 0) this.arm();
  }
}
