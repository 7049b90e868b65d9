import type { ClientError } from "nice-grpc-common";
import { MAX_TIMER_MS } from "../check.js";
import { doubling } from "../doubling.js";
import type { RetryOptions } from "./call-options.js";
import type { MethodInfo } from "./method.js";
import type { ResolvedRetrySettings } from "./retry-settings.js";

/**
 * @internal
 * The delay before retry number `attempt` (from 0): exponential, capped, with
 * "equal jitter" (between half and all of it), as nice-grpc's retry middleware
 * computes it.
 */
function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const backoff = doubling(baseMs, maxMs, attempt);
  return Math.round((backoff * (1 + random())) / 2);
}

/**
 * grpc-js's details when HTTP/2 reset the stream for its header block
 * (COMPRESSION_ERROR, code 9): metadata too large to send, seen at about
 * 100 KB in one value. The same metadata would fail the same way again.
 */
const HEADERS_REFUSED = "Received RST_STREAM with code 9";

/** @internal Whether `error`'s code is one the call's (or else the client's) retry settings retry. */
export function isRetryable(error: ClientError, options: RetryOptions, client: ResolvedRetrySettings | false): boolean {
  const statuses = options.retryableStatuses ?? (client === false ? [] : client.retryableStatuses);
  return statuses.includes(error.code);
}

/** The trailer by which a server tells how long to wait before a retry (gRFC A6). */
export const PUSHBACK_TRAILER = "grpc-retry-pushback-ms";

/**
 * @internal
 * The delay before retrying a failed attempt, or undefined when it must not
 * be retried: retries are off, the method is not idempotent and the call did
 * not ask, the code is not retryable, the attempts are used up, or the server
 * said not to. A server's pushback (gRFC A6: `grpc-retry-pushback-ms`) sets
 * the delay: a whole number of ms is waited as it is; a negative or malformed
 * value means "do not retry".
 */
export function retryDelay(
  error: ClientError,
  attempt: number,
  method: MethodInfo,
  options: RetryOptions,
  client: ResolvedRetrySettings | false,
  pushback?: string,
): number | undefined {
  if (client === false || !(options.retry ?? method.idempotent)) return undefined;
  const maxAttempts = options.retryMaxAttempts ?? client.retryMaxAttempts;
  if (attempt >= maxAttempts || !isRetryable(error, options, client)) return undefined;
  if (error.details === HEADERS_REFUSED) return undefined; // failing by nature: never sent

  if (pushback !== undefined) {
    // Beyond a timer's range (about 24.8 days) Node would fire at once: a server asking that long means "not now".
    return /^\d{1,10}$/.test(pushback) && Number(pushback) <= MAX_TIMER_MS ? Number(pushback) : undefined;
  }
  return backoffMs(
    attempt,
    options.retryBaseDelayMs ?? client.retryBaseDelayMs,
    options.retryMaxDelayMs ?? client.retryMaxDelayMs,
  );
}
