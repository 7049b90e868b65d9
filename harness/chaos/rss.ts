import { median } from "../load.js";

/** One memory sample of the client process, taken right after a full GC. */
export interface RssSample {
  /** Epoch ms. */
  at: number;
  rssMb: number;
  heapMb: number;
}

/**
 * How much RSS may grow from the first to the last third of the samples
 * after warm-up: 24 MB, or 20 % of where it stood, whichever is more. A
 * leak of a few hundred bytes per call (about 1,000 calls/s here) grows
 * past that within minutes; V8's and glibc's own breathing (heap pages kept,
 * arenas) stays well inside it.
 */
export const RSS_TOLERANCE = { absoluteMb: 24, fraction: 0.2 } as const;

/** At least this many samples after warm-up, or no verdict. */
const MIN_SAMPLES = 6;

export interface RssVerdict {
  /** Whether there were enough samples after warm-up to judge. */
  judged: boolean;
  ok: boolean;
  /** Medians of the first and last third after warm-up, MB. */
  firstMb: number;
  lastMb: number;
  limitMb: number;
  heapFirstMb: number;
  heapLastMb: number;
  samples: number;
}

/**
 * Judges RSS flat or not: drops the samples of the first `warmupMs`, splits
 * the rest in thirds, and compares the medians of the first and last third.
 */
export function judgeRss(samples: readonly RssSample[], warmupMs: number): RssVerdict {
  const start = samples[0]?.at ?? 0;
  const kept = samples.filter((s) => s.at - start >= warmupMs);
  const third = Math.floor(kept.length / 3);
  const first = kept.slice(0, third);
  const last = kept.slice(kept.length - third);
  const firstMb = median(first.map((s) => s.rssMb));
  const lastMb = median(last.map((s) => s.rssMb));
  const limitMb = Math.max(RSS_TOLERANCE.absoluteMb, RSS_TOLERANCE.fraction * firstMb);
  const judged = kept.length >= MIN_SAMPLES;
  return {
    judged,
    ok: !judged || lastMb - firstMb <= limitMb,
    firstMb,
    lastMb,
    limitMb,
    heapFirstMb: median(first.map((s) => s.heapMb)),
    heapLastMb: median(last.map((s) => s.heapMb)),
    samples: kept.length,
  };
}
