const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses `500ms`, `30s`, `1.5m`, `2h` or a bare number of ms into ms.
 * (No import of the library here: the demo must set an environment variable
 * before grpc-js loads.)
 */
export function parseDuration(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`expected a duration such as "500ms", "30s", "5m", got "${text}"`);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? "ms"]!);
}
