import { cpus } from "node:os";

/** Prints a benchmark's table for people and one JSON line for machines. */
export function report(name: string, tableText: string, data: unknown): void {
  process.stdout.write(`${tableText}\n\n`);
  process.stdout.write(`${JSON.stringify({ bench: name, node: process.version, cpus: cpus().length, data })}\n`);
}
