/** Prints a benchmark's table for people and one JSON line for machines. */
export function report(name: string, tableText: string, data: unknown): void {
  process.stdout.write(`${tableText}\n\n`);
  process.stdout.write(`${JSON.stringify({ bench: name, node: process.version, cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency, data })}\n`);
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}
