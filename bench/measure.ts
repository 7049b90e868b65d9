import { runLoad } from "../harness/load.js";

/** One cell of a benchmark table. */
export interface Cell {
  callsPerSecond: number;
  /** Client CPU (user + system, this whole process) per call, µs. */
  cpuUsPerCall: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  /** Messages moved per second, for streaming calls. */
  messagesPerSecond: number;
}

/**
 * Runs `call` at `concurrency` for `durationMs` and measures throughput,
 * latency and the client process's CPU per call (`process.cpuUsage`, so the
 * server must run in another process).
 */
export async function measure(
  call: () => Promise<unknown>,
  { concurrency, durationMs }: { concurrency: number; durationMs: number },
): Promise<Cell> {
  let messages = 0;
  // Each cell starts on a clean heap (when node runs with --expose-gc, as
  // `npm run bench` does), so no client pays for the garbage of the one before.
  (globalThis as { gc?: () => void }).gc?.();
  const cpu = process.cpuUsage();
  const result = await runLoad(
    async () => {
      const moved = await call();
      if (typeof moved === "number") messages += moved;
    },
    { concurrency, durationMs },
  );
  const used = process.cpuUsage(cpu);
  return {
    callsPerSecond: result.callsPerSecond,
    cpuUsPerCall: (used.user + used.system) / Math.max(1, result.calls),
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    failures: result.failures,
    messagesPerSecond: messages / result.seconds,
  };
}
