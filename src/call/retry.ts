import type { ClientError } from "nice-grpc-common";
import type { ResolvedRetrySettings } from "../client-options.js";
import type { RetryOptions } from "./call-options.js";
import type { MethodInfo } from "./method.js";

/**
 * @internal
 * The delay before retry number `attempt` (from 0): exponential, capped, with
 * "equal jitter" (between half and all of it), as nice-grpc's retry middleware
 * computes it.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const backoff = Math.min(maxMs, 2 ** attempt * baseMs);
  return Math.round((backoff * (1 + random())) / 2);
}

/**
 * @internal
 * The delay before retrying a failed attempt, or undefined when it must not
 * be retried: retries are off, the method is not idempotent and the call did
 * not ask, the code is not retryable, or the attempts are used up.
 */
export function retryDelay(
  error: ClientError,
  attempt: number,
  method: MethodInfo,
  options: RetryOptions,
  client: ResolvedRetrySettings | false,
): number | undefined {
  if (client === false || !(options.retry ?? method.idempotent)) return undefined;
  const maxAttempts = options.retryMaxAttempts ?? client.retryMaxAttempts;
  const statuses = options.retryableStatuses ?? client.retryableStatuses;
  if (attempt >= maxAttempts || !statuses.includes(error.code)) return undefined;
  return backoffMs(
    attempt,
    options.retryBaseDelayMs ?? client.retryBaseDelayMs,
    options.retryMaxDelayMs ?? client.retryMaxDelayMs,
  );
}
