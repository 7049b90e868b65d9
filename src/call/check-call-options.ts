import { Status } from "nice-grpc-common";
import { checkCount, checkDuration, checkKnownKeys } from "../check.js";
import { InvalidOptionError } from "../errors.js";
import type { EngineCallOptions } from "./call-types.js";
import { resolveHedging } from "./hedging-settings.js";

/**
 * The farthest deadline accepted, ms from now: 100 years. grpc-js sends the
 * time left as `grpc-timeout` and throws, outside any caller's reach, when it
 * cannot (past ~11,000 years, or NaN): the process would crash.
 */
const MAX_DEADLINE_MS = 100 * 365.25 * 24 * 3_600_000;

/** Every call option: nice-grpc's, and the SDK's (compile-checked against the type). */
const CALL_OPTION_NAMES = Object.keys({
  deadline: true,
  signal: true,
  metadata: true,
  onHeader: true,
  onTrailer: true,
  retry: true,
  retryBaseDelayMs: true,
  retryMaxDelayMs: true,
  retryMaxAttempts: true,
  retryableStatuses: true,
  onRetryableError: true,
  waitForReady: true,
  hedge: true,
} satisfies Record<keyof EngineCallOptions, true>);

const STATUS_CODES = new Set(Object.values(Status).filter((v) => typeof v === "number"));

/**
 * @internal
 * Checks a call's options (or a client's `defaultCallOptions` entry, `where`
 * naming it): unknown names and wrong types are an {@link InvalidOptionError}
 * naming the option, thrown before anything is sent. The engine turns it into
 * the call's rejection, the same way for every call kind. Without
 * `strictKeys` (a client with middleware, whose options may carry the
 * middleware's own names) unknown names pass.
 */
export function checkCallOptions(options: unknown, where = "", strictKeys = true): EngineCallOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(
      where.replace(/\.$/, "") || "call options",
      options,
      "expected an object of call options",
    );
  }
  const o = options as Record<string, unknown>;
  if (strictKeys) checkKnownKeys("call options", o, CALL_OPTION_NAMES, where);
  for (const key in o) {
    const value = o[key];
    if (value === undefined) continue;
    const name = `${where}${key}`;
    switch (key) {
      case "deadline":
        checkDeadline(name, value);
        break;
      case "signal":
        if (!(value instanceof AbortSignal)) throw new InvalidOptionError(name, value, "expected an AbortSignal");
        break;
      case "metadata":
        if (typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== "function") {
          throw new InvalidOptionError(name, value, "expected a Metadata (from balanced-grpc or nice-grpc)");
        }
        break;
      case "onHeader":
      case "onTrailer":
      case "onRetryableError":
        if (typeof value !== "function") throw new InvalidOptionError(name, value, "expected a function");
        break;
      case "retry":
      case "waitForReady":
        if (typeof value !== "boolean") throw new InvalidOptionError(name, value, "expected true or false");
        break;
      case "retryBaseDelayMs":
      case "retryMaxDelayMs":
        checkDuration(name, value);
        break;
      case "retryMaxAttempts":
        checkCount(name, value);
        break;
      case "retryableStatuses":
        if (!Array.isArray(value) || !value.every((code) => STATUS_CODES.has(code))) {
          throw new InvalidOptionError(name, value, "expected an array of status codes (Status.UNAVAILABLE, …)");
        }
        break;
      case "hedge":
        if (value !== true && value !== false) resolveHedging(name, value, undefined, true);
        break;
    }
  }
  return o as EngineCallOptions;
}

function checkDeadline(name: string, value: unknown): void {
  const expected = `expected a Date or a number of ms from now, at most ${MAX_DEADLINE_MS} (100 years)`;
  let ms: number;
  if (value instanceof Date) ms = value.getTime() - Date.now();
  else if (typeof value === "number") ms = value;
  else throw new InvalidOptionError(name, value, expected);
  if (!Number.isFinite(ms) || ms > MAX_DEADLINE_MS) throw new InvalidOptionError(name, value, expected);
}
