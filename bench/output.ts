/** Prints a benchmark's table for people and one JSON line for machines. */
export function report(name: string, tableText: string, data: unknown): void {
  process.stdout.write(`${tableText}\n\n`);
  process.stdout.write(`${JSON.stringify({ bench: name, node: process.version, cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency, data })}\n`);
}

