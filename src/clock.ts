/**
 * @internal
 * Time and timers, injectable: tests drive the SDK's timers (backoff, hedge
 * delays, budget windows, ejections, idle shrink) with a fake clock, exactly,
 * with no real sleeps.
 */
export interface Clock {
  /** The current time, ms. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * @internal
 * The calls' clock: wall-clock time (epoch ms, with performance.now()'s
 * precision, as deadlines are) and ordinary timers: a call waiting to retry
 * or to hedge keeps the process alive, as its caller awaits it.
 */
export const callClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * @internal
 * The balancer's clock: monotonic time, and timers that do not keep the
 * process alive (a closed client must let it exit).
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
