import { InvalidOptionError } from "../src/errors.js";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `30s`, `1.5m`, `2h` or a bare number of ms into ms. */
export function parseDuration(option: string, text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new InvalidOptionError(option, text, 'expected a duration such as "500ms", "30s", "5m"');
  return Math.round(Number(match[1]) * UNITS[match[2] ?? "ms"]!);
}
