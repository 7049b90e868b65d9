/**
 * @internal
 * A connection's recent round-trip time: an exponentially weighted moving
 * average of its calls' times over about `decayMs` (each sample weighs by the
 * time since the previous one, so the estimate means the same at any call
 * rate). A connection that no call ends on for longer than `decayMs` (one
 * that p2c has been avoiding) sees its estimate fade, so it is tried again.
 * Finagle and Linkerd weigh their least-loaded picks with such an estimate.
 */
export class RttEwma {
  private value = 0;
  private stamp = 0;

  constructor(private readonly decayMs: number) {}

  /** Adds a call's round-trip time, ms, observed at `now`. */
  observe(rttMs: number, now: number): void {
    const keep = Math.exp(-Math.max(0, now - this.stamp) / this.decayMs);
    this.value = this.value === 0 ? rttMs : this.value * keep + rttMs * (1 - keep);
    this.stamp = now;
  }

  /** The estimate at `now`, ms; 0 before the first call. */
  read(now: number): number {
    const idle = now - this.stamp - this.decayMs;
    return idle > 0 ? this.value * Math.exp(-idle / this.decayMs) : this.value;
  }
}
