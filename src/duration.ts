import { InvalidOptionError } from "./errors.js";

/** Largest timer Node accepts, ms (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Throws unless `value` is a whole number of ms from `min` to the largest timer. */
export function checkDuration(option: string, value: unknown, min = 0): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(
      option,
      value,
      `expected a whole number of milliseconds from ${min} to ${MAX_TIMER_MS}`,
    );
  }
  return value;
}
