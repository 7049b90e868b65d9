/** One call of a load loop, with the instants (performance.now()) it really started and ended. */
export interface CallEvent<T = unknown> {
  startedAt: number;
  endedAt: number;
  /** What the call resolved to; undefined if it failed. */
  value?: T;
  /** Why it failed; undefined if it succeeded. */
  error?: unknown;
}

/** Options of {@link runLoad}. Every loop is bounded by time and by count. */
export interface LoadOptions<T> {
  /** Calls in flight. */
  concurrency: number;
  /** Stop starting calls after this long, ms. */
  durationMs: number;
  /** Stop after starting this many. @default 1_000_000 */
  maxCalls?: number;
  /** Stop once this is true (checked before each call). */
  stopWhen?: () => boolean;
  /** Called as each call ends: record what you need (e.g. which backend served it). */
  onEnd?: (event: CallEvent<T>) => void;
}

/** What {@link runLoad} measured. */
export interface LoadResult {
  calls: number;
  failures: number;
  /** The first few failure messages, for humans. */
  errors: string[];
  seconds: number;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `call` with `concurrency` workers until the time, the count or `stopWhen` says stop. */
export async function runLoad<T>(call: (i: number) => Promise<T>, options: LoadOptions<T>): Promise<LoadResult> {
  const { concurrency, durationMs, maxCalls = 1_000_000, stopWhen = () => false, onEnd } = options;
  const latencies: number[] = [];
  const errors: string[] = [];
  let failures = 0;
  let started = 0;
  const start = performance.now();
  const stopAt = start + durationMs;
  const worker = async () => {
    while (started < maxCalls && performance.now() < stopAt && !stopWhen()) {
      const i = started++;
      const startedAt = performance.now();
      try {
        const value = await call(i);
        const endedAt = performance.now();
        latencies.push(endedAt - startedAt);
        onEnd?.({ startedAt, endedAt, value });
      } catch (error) {
        failures++;
        if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
        onEnd?.({ startedAt, endedAt: performance.now(), error });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    calls: latencies.length + failures,
    failures,
    errors,
    seconds,
    callsPerSecond: (latencies.length + failures) / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

/** Runs exactly `total` calls, `concurrency` at a time; collects the failures. */
export async function runCalls(
  total: number,
  concurrency: number,
  call: (i: number) => Promise<unknown>,
): Promise<{ ok: number; failed: unknown[] }> {
  const failed: unknown[] = [];
  const result = await runLoad(call, {
    concurrency: Math.min(concurrency, total),
    durationMs: Infinity,
    maxCalls: total,
    onEnd: (event) => void (event.error !== undefined && failed.push(event.error)),
  });
  return { ok: result.calls - result.failures, failed };
}

/** The q-quantile of sorted values (0 for none). */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** The median of a list: the middle value, or the mean of the two middle ones (0 for an empty list). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[middle]!;
  return sorted.length === 0 ? 0 : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Options of {@link runOpenLoop}. Bounded by time and by count. */
export interface OpenLoopOptions<T> {
  /** Calls started per second, on a fixed schedule whatever the calls do. */
  ratePerSecond: number;
  /** Stop starting calls after this long, ms. */
  durationMs: number;
  /** Calls in flight at most: a call due while this many are out is counted as dropped, not started. @default 10_000 */
  maxInFlight?: number;
  /** Called as each call ends, with the instant it was scheduled as its start. */
  onEnd?: (event: CallEvent<T>) => void;
}

/** What {@link runOpenLoop} measured: latencies from each call's scheduled start. */
export interface OpenLoopResult extends LoadResult {
  /** Calls not started because `maxInFlight` were out: the client could not keep up. */
  dropped: number;
  /** How late calls started against their schedule, ms (the client's own event-loop delay), p99. */
  startLagP99Ms: number;
}

/**
 * An open loop: calls start on a schedule (every 1/rate s), not when earlier
 * ones end, so a slow call does not slow the load and the latencies measure
 * the system, not the client's own queue (a closed loop at saturation does).
 * Latency counts from the scheduled start: a call the client started late
 * counts its lateness (no coordinated omission).
 */
export async function runOpenLoop<T>(
  call: (i: number) => Promise<T>,
  options: OpenLoopOptions<T>,
): Promise<OpenLoopResult> {
  const { ratePerSecond, durationMs, maxInFlight = 10_000, onEnd } = options;
  const interval = 1000 / ratePerSecond;
  const total = Math.floor((durationMs / 1000) * ratePerSecond);
  const latencies: number[] = [];
  const lags: number[] = [];
  const errors: string[] = [];
  let failures = 0;
  let dropped = 0;
  let inFlight = 0;
  let next = 0;
  const start = performance.now();
  let allStarted: () => void = () => {};
  const startedAll = new Promise<void>((resolve) => {
    allStarted = resolve;
  });
  let ended: () => void = () => {};
  const drained = new Promise<void>((resolve) => {
    ended = resolve;
  });
  const one = async (i: number, scheduledAt: number) => {
    inFlight++;
    try {
      const value = await call(i);
      const endedAt = performance.now();
      latencies.push(endedAt - scheduledAt);
      onEnd?.({ startedAt: scheduledAt, endedAt, value });
    } catch (error) {
      failures++;
      if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
      onEnd?.({ startedAt: scheduledAt, endedAt: performance.now(), error });
    } finally {
      inFlight--;
      if (next >= total && inFlight === 0) ended();
    }
  };
  const tick = () => {
    const now = performance.now();
    // Every call due by now starts now (a late tick starts the calls it missed).
    while (next < total && start + next * interval <= now) {
      const scheduledAt = start + next * interval;
      lags.push(now - scheduledAt);
      if (inFlight >= maxInFlight) dropped++;
      else void one(next, scheduledAt);
      next++;
    }
    if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    else allStarted();
  };
  tick();
  await startedAll;
  if (inFlight > 0) await drained;
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  const calls = latencies.length + failures;
  return {
    calls,
    failures,
    errors,
    seconds,
    callsPerSecond: calls / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    dropped,
    startLagP99Ms: percentile(lags, 0.99),
  };
}
