/**
 * @internal
 * A budget of extra attempts for one client, over a sliding window: retries
 * (or hedges) may be at most `ratio` of the calls started in the last
 * `windowMs`, plus `minPerSecond` for each second of it (so a client making
 * few calls can still retry a few). This is Finagle's `RetryBudget` (20% of
 * calls + 10 per second over 10 s): in a full outage the servers see the
 * calls plus the budget, not every call times every attempt.
 *
 * The per-second part accrues as the budget lives, one second's worth at
 * once, so a new client gets 10 at first (not the window's 100) and over
 * its first T seconds at most 10 × (T + 1).
 *
 * Counted in one-second buckets: a call costs an increment, a retry a sum
 * over the buckets.
 */
export class RetryBudget {
  private readonly seconds: number;
  /** Per bucket: the second it counts (epoch seconds), calls, and withdrawals. */
  private readonly stamp: Float64Array;
  private readonly calls: Float64Array;
  private readonly spent: Float64Array;
  private readonly born: number;

  constructor(
    private readonly ratio: number,
    private readonly minPerSecond: number,
    windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.seconds = Math.max(1, Math.round(windowMs / 1000));
    this.stamp = new Float64Array(this.seconds).fill(-1);
    this.calls = new Float64Array(this.seconds);
    this.spent = new Float64Array(this.seconds);
    this.born = now();
  }

  /** A call started: it adds `ratio` of an attempt to the budget. */
  deposit(): void {
    this.calls[this.bucket(Math.floor(this.now() / 1000))]!++;
  }

  /** Takes one extra attempt from the budget; false (and nothing taken) when it is spent. */
  tryWithdraw(): boolean {
    if (!this.hasRoom()) return false;
    this.take();
    return true;
  }

  /** Takes one extra attempt, room or not (after {@link hasRoom} said yes). */
  take(): void {
    this.spent[this.bucket(Math.floor(this.now() / 1000))]!++;
  }

  /** Whether one more extra attempt fits. */
  hasRoom(): boolean {
    const second = Math.floor(this.now() / 1000);
    let calls = 0;
    let spent = 0;
    for (let i = 0; i < this.seconds; i++) {
      if (this.stamp[i]! > second - this.seconds) {
        calls += this.calls[i]!;
        spent += this.spent[i]!;
      }
    }
    const lived = (this.now() - this.born) / 1000;
    const reserve = this.minPerSecond * Math.min(this.seconds, lived + 1);
    return spent + 1 <= this.ratio * calls + reserve;
  }

  private bucket(second: number): number {
    const index = second % this.seconds;
    if (this.stamp[index] !== second) {
      this.stamp[index] = second;
      this.calls[index] = 0;
      this.spent[index] = 0;
    }
    return index;
  }
}
