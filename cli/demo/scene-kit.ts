import { type LoadResult, runLoad } from "../../harness/load.js";

export { countingClient } from "../../harness/counting-client.js";

/** Settings every scene reads. */
export interface SceneSettings {
  count: number;
  poolSize: number;
  concurrency: number;
  durationMs: number;
  maxAgeMs: number;
  /** The client max connection age of the L4 scale-out scene, ms. */
  clientMaxAgeMs: number;
  /** Called with a one-line progress report while a scene runs. */
  progress: (line: string) => void;
}

/** Gets every connection up before a scene measures. */
export async function warmUp(call: () => Promise<void>): Promise<void> {
  await runLoad(call, { concurrency: 20, durationMs: 2_000, maxCalls: 200 });
}

/** Runs a scene's load with a live progress line. */
export async function drive(
  settings: SceneSettings,
  label: string,
  call: () => Promise<void>,
  ok: () => number,
  options: { durationMs: number; stopWhen?: () => boolean; concurrency?: number },
): Promise<LoadResult> {
  const timer = setInterval(() => settings.progress(`${label}: ${ok()} calls…`), 250);
  try {
    return await runLoad(call, {
      concurrency: options.concurrency ?? settings.concurrency,
      durationMs: options.durationMs,
      ...(options.stopWhen ? { stopWhen: options.stopWhen } : {}),
    });
  } finally {
    clearInterval(timer);
    settings.progress("");
  }
}

/** Each backend's share of the calls, 0..1. */
export function shares(served: ReadonlyMap<string, number>, hosts: readonly string[]): number[] {
  const total = hosts.reduce((n, h) => n + (served.get(h) ?? 0), 0);
  return hosts.map((h) => (total === 0 ? 0 : (served.get(h) ?? 0) / total));
}
