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

/**
 * Runs `call` with `concurrency` workers until `durationMs` passes,
 * `maxCalls` have started or `stopWhen()` is true, whichever is first: a
 * bounded load loop.
 */
export async function runLoad(
  call: () => Promise<unknown>,
  {
    concurrency,
    durationMs,
    maxCalls = 1_000_000,
    stopWhen = () => false,
  }: { concurrency: number; durationMs: number; maxCalls?: number; stopWhen?: () => boolean },
): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors: string[] = [];
  let failures = 0;
  let started = 0;
  const start = performance.now();
  const stopAt = start + durationMs;
  const worker = async () => {
    while (started < maxCalls && performance.now() < stopAt && !stopWhen()) {
      started++;
      const t0 = performance.now();
      try {
        await call();
        latencies.push(performance.now() - t0);
      } catch (error) {
        failures++;
        if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    calls: latencies.length + failures,
    failures,
    errors,
    seconds,
    callsPerSecond: (latencies.length + failures) / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

/** Runs exactly `total` calls of `call`, `concurrency` at a time: a loop bounded by count. */
export async function runCalls(
  total: number,
  concurrency: number,
  call: (i: number) => Promise<unknown>,
): Promise<{ ok: number; failed: unknown[] }> {
  let next = 0;
  let ok = 0;
  const failed: unknown[] = [];
  const worker = async () => {
    while (next < total) {
      const i = next++;
      try {
        await call(i);
        ok++;
      } catch (error) {
        failed.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return { ok, failed };
}

/** The median of a list (0 for an empty one). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
}
