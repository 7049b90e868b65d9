/** Latencies kept per method for the "auto" hedge delay. */
const SAMPLES = 256;
/** The delay is recomputed after this many new samples (a sort of 256 numbers). */
const RECOMPUTE_EVERY = 32;
/** Samples needed before "auto" hedges at all: until then, no hedge. */
const MIN_SAMPLES = 32;

/**
 * @internal
 * The "auto" hedge delay of one method of one client: a percentile (p95 by
 * default) of its recent call latencies, never below a floor. A call still
 * unanswered after it is slower than 95% of recent calls: a second attempt
 * then costs about 5% more attempts and cuts the tail (Dean and Barroso,
 * "The Tail at Scale"; Finagle's backup requests work the same way).
 */
export class HedgeDelay {
  private readonly samples = new Float64Array(SAMPLES);
  private count = 0;
  private current: number | undefined;

  constructor(
    private readonly percentile: number,
    private readonly floorMs: number,
  ) {}

  /** Adds a successful call's latency, ms. */
  observe(ms: number): void {
    this.samples[this.count % SAMPLES] = ms;
    this.count++;
    if (this.count >= MIN_SAMPLES && (this.current === undefined || this.count % RECOMPUTE_EVERY === 0)) {
      const sorted = this.samples.slice(0, Math.min(this.count, SAMPLES)).sort();
      const at = Math.min(sorted.length - 1, Math.floor(sorted.length * this.percentile));
      this.current = Math.max(this.floorMs, sorted[at]!);
    }
  }

  /** The delay before a hedge, ms, or undefined while too few calls were seen. */
  get ms(): number | undefined {
    return this.current;
  }
}
