import type { ClientError, Status } from "nice-grpc-common";

/** The `deadline` call option. */
export interface DeadlineOptions {
  /**
   * When the call must be done: a `Date`, or milliseconds from now. One
   * deadline covers every retry attempt and cuts a backoff short; the server
   * receives the time left (`grpc-timeout`) on every attempt. A call past its
   * deadline fails with DEADLINE_EXCEEDED.
   * @default undefined (no deadline)
   */
  deadline?: Date | number;
}

/**
 * Retry call options: the names and meaning of `nice-grpc-client-middleware-retry`.
 * Retries cover unary calls only; refused streams of every kind are sent again
 * regardless (see the README's "Zero-loss rotation").
 */
export interface RetryOptions {
  /**
   * Whether this call retries. Methods marked
   * `idempotency_level = NO_SIDE_EFFECTS` or `IDEMPOTENT` in the proto retry
   * by default, others only when the call says `retry: true`.
   * @default true for idempotent methods, false otherwise
   */
  retry?: boolean;
  /**
   * Delay before the first retry, ms; it doubles at each retry (with jitter:
   * each delay is drawn between half and all of it).
   * @default 50
   */
  retryBaseDelayMs?: number;
  /**
   * Longest delay between attempts, ms.
   * @default 2000
   */
  retryMaxDelayMs?: number;
  /**
   * Retries after the first attempt; `Infinity` retries until the deadline.
   * @default 3
   */
  retryMaxAttempts?: number;
  /**
   * Status codes that retry.
   * @default [Status.UNKNOWN, Status.INTERNAL, Status.UNAVAILABLE, Status.CANCELLED]
   */
  retryableStatuses?: readonly Status[];
  /**
   * Called with each failed attempt that will be retried, the attempt number
   * (from 0) and the delay before the next one.
   * @default undefined
   */
  onRetryableError?(error: ClientError, attempt: number, delayMs: number): void;
}

/** The `waitForReady` call option. */
export interface WaitForReadyOptions {
  /**
   * Wait for a connection to become ready instead of failing at once while
   * the servers are unreachable. The call's deadline still applies.
   * @default false
   */
  waitForReady?: boolean;
}

/**
 * Hedged calls: when a call has no answer after `delayMs`, a second attempt
 * goes to another backend; the first answer wins and the other attempts are
 * cancelled. For unary calls.
 */
export interface HedgingOptions {
  /**
   * How long to wait for an answer before the next attempt, ms, or `"auto"`:
   * the method's recent p95 latency on this client (at least 5 ms; no hedge
   * until 32 calls were seen).
   * @default "auto"
   */
  delayMs?: number | "auto";
  /**
   * Hedges after the first attempt, at most: each goes when the attempts
   * before it have had no answer for `delayMs`. No option of the SDK counts
   * the first attempt (`retryMaxAttempts` is retries after it).
   * @default 1
   */
  maxHedges?: number;
  /**
   * Hedges may add at most this fraction of the client's calls (over the last
   * 10 s), so an overloaded service is not sent twice the load.
   * @default 0.1
   */
  budget?: number;
}

/** The `hedge` call option. */
export interface HedgeOptions {
  /**
   * Hedge this call: `true` with the client's `hedging` settings (or their
   * defaults), settings to override them (not `budget`: the hedge budget is
   * the client's, shared by its calls), `false` never. Methods marked
   * `NO_SIDE_EFFECTS` or `IDEMPOTENT` hedge when the client has `hedging`;
   * others only when the call says `hedge`.
   * @default the client's `hedging`, for idempotent methods
   */
  hedge?: boolean | Omit<HedgingOptions, "budget">;
}

/**
 * Every per-call option of an SDK client, besides nice-grpc's own `signal`,
 * `metadata`, `onHeader` and `onTrailer`: `deadline`, the retry options,
 * `waitForReady`, `hedge`.
 */
export type SdkCallOptions = DeadlineOptions & RetryOptions & WaitForReadyOptions & HedgeOptions;
