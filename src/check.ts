/*
 * Option checks. One contract: each returns the value it was given when it is
 * valid, and throws an {@link InvalidOptionError} naming the option and the
 * value when it is not.
 *
 * Internal to the library (not exported from its entry).
 */
import { InvalidOptionError } from "./errors.js";

/** Largest timer Node accepts, ms (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A whole number of milliseconds from `min` to the largest timer. */
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

/** An integer from `min` to `max`. */
export function checkInteger(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(option, value, `expected an integer from ${min} to ${max}`);
  }
  return value;
}

/** A whole number from 0, or `Infinity`. */
export function checkCount(option: string, value: unknown): number {
  if (typeof value !== "number" || !(value === Infinity || (Number.isInteger(value) && value >= 0))) {
    throw new InvalidOptionError(option, value, "expected a whole number, 0 or more, or Infinity");
  }
  return value;
}

/** One of a few strings; `expected` describes them when a plain list would not. */
export function checkOneOf<const T extends string>(
  option: string,
  value: unknown,
  allowed: readonly T[],
  expected = allowed.map((a) => JSON.stringify(a)).join(" or "),
): T {
  if (!allowed.includes(value as T)) throw new InvalidOptionError(option, value, `expected ${expected}`);
  return value as T;
}

/** A plain object (not null, not an array), or undefined. */
export function checkObject(option: string, value: unknown, expected: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(option, value, expected);
  }
  return value as Record<string, unknown>;
}

/** A finite number from 0 to `max` (a ratio, a rate). */
export function checkFraction(option: string, value: unknown, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > max) {
    throw new InvalidOptionError(option, value, `expected a number from 0 to ${max}`);
  }
  return value;
}

/**
 * Only the keys in `known`. A misspelled option (`adress`, `maxConnectionAgeMs`)
 * would otherwise be ignored in silence and its default used; the first
 * unknown key is named, with the closest known one when it looks like a typo.
 */
export function checkKnownKeys(
  where: string,
  value: Record<string, unknown>,
  known: readonly string[],
  prefix = "",
): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  const [first] = unknown;
  if (first === undefined) return;
  const suggestion = closest(first, known);
  const others = unknown.length > 1 ? `; also unknown: ${unknown.slice(1).join(", ")}` : "";
  const hint = suggestion ? ` (did you mean "${prefix}${suggestion}"?)` : "";
  throw new InvalidOptionError(
    `${prefix}${first}`,
    value[first],
    `expected no such option in ${where}${hint}; known: ${known.join(", ")}${others}`,
  );
}

/** The known name within two edits of `name` (case aside), if any. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(name.toLowerCase(), key.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { key, distance };
  }
  // A longer variant (`timeout` for `timeoutMs`) is as likely a slip as a typo.
  return best?.key ?? known.find((key) => name.toLowerCase().startsWith(key.toLowerCase()));
}

/** Levenshtein distance; names are short, so the plain O(n·m) table is fine. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
