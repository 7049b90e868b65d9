import type { Status } from "nice-grpc-common";
import { checkCount, checkDuration, checkFraction, checkKnownKeys, checkObject } from "../check.js";
import { DEFAULT_RETRY, DEFAULT_RETRY_BUDGET } from "../defaults.js";
import { InvalidOptionError } from "../errors.js";

/** @internal Retry settings of a client with every default applied. */
export interface ResolvedRetrySettings {
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  retryMaxAttempts: number;
  retryableStatuses: readonly Status[];
}

/** @internal The retry budget of a client with every default applied. */
export interface ResolvedRetryBudget {
  ratio: number;
  minPerSecond: number;
}

/** @internal The client's `retry` option, checked, with every default applied. */
export function resolveRetry(retry: unknown): ResolvedRetrySettings | false {
  if (retry === false) return false;
  const given = checkObject("retry", retry, "expected retry settings or false") ?? {};
  checkKnownKeys("retry", given, Object.keys(DEFAULT_RETRY), "retry.");
  const statuses = given.retryableStatuses ?? DEFAULT_RETRY.retryableStatuses;
  if (!Array.isArray(statuses) || statuses.some((s) => !Number.isInteger(s))) {
    throw new InvalidOptionError("retry.retryableStatuses", statuses, "expected an array of status codes");
  }
  return {
    retryBaseDelayMs: checkDuration("retry.retryBaseDelayMs", given.retryBaseDelayMs ?? DEFAULT_RETRY.retryBaseDelayMs),
    retryMaxDelayMs: checkDuration("retry.retryMaxDelayMs", given.retryMaxDelayMs ?? DEFAULT_RETRY.retryMaxDelayMs),
    retryMaxAttempts: checkCount("retry.retryMaxAttempts", given.retryMaxAttempts ?? DEFAULT_RETRY.retryMaxAttempts),
    retryableStatuses: statuses,
  };
}

/** @internal The client's `retryBudget` option, checked, with every default applied. */
export function resolveRetryBudget(value: unknown): ResolvedRetryBudget | false {
  if (value === false) return false;
  const given = checkObject("retryBudget", value, "expected { ratio, minPerSecond } or false") ?? {};
  checkKnownKeys("retryBudget", given, Object.keys(DEFAULT_RETRY_BUDGET), "retryBudget.");
  return {
    ratio: checkFraction("retryBudget.ratio", given.ratio ?? DEFAULT_RETRY_BUDGET.ratio, 1000),
    minPerSecond: checkFraction(
      "retryBudget.minPerSecond",
      given.minPerSecond ?? DEFAULT_RETRY_BUDGET.minPerSecond,
      1e6,
    ),
  };
}
