import { createHash } from "node:crypto";

/**
 * A seeded pseudo-random stream: the same seed and stream name give the same
 * draws on every machine. The soak draws each independent sequence (the fault
 * schedule, each load worker, the client closer) from its own named stream, so
 * timing can reorder the sequences but never what each one draws.
 */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** A float in [min, max). */
  between(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T;
  /** One key, drawn in proportion to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast counter, as in PractRand) seeded
 * from SHA-256 of the seed and the stream name. Hand-written because it is
 * ten lines and the soak may add no dependency; Math.random cannot be seeded.
 */
export function createPrng(seed: number, stream: string): Prng {
  const digest = createHash("sha256").update(`${seed}/${stream}`).digest();
  let a = digest.readUInt32LE(0);
  let b = digest.readUInt32LE(4);
  let c = digest.readUInt32LE(8);
  let d = digest.readUInt32LE(12);
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  };
  // The first draws of sfc32 are weakly mixed; skip them as its author does.
  for (let i = 0; i < 12; i++) next();
  const prng: Prng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    between: (min, max) => min + next() * (max - min),
    chance: (p) => next() < p,
    pick: (list) => {
      if (list.length === 0) throw new RangeError("pick from an empty list");
      return list[Math.floor(next() * list.length)]!;
    },
    weighted: (weights) => {
      const entries = Object.entries(weights) as [keyof typeof weights, number][];
      const total = entries.reduce((sum, [, w]) => sum + w, 0);
      let draw = next() * total;
      for (const [key, weight] of entries) {
        draw -= weight;
        if (draw < 0) return key;
      }
      return entries[entries.length - 1]![0];
    },
  };
  return prng;
}
