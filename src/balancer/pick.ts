import type { PickPolicy } from "../strategy.js";

/** What a pick needs to know of a connection. */
export interface Pickable {
  /** The backend it is connected to (its address). */
  readonly backend: string;
  /** How busy it is at `now`: the less, the better. */
  cost(now: number): number;
}

/** Draws of a second connection to find one on another backend than the first. */
const REDRAWS = 3;

/** Returns the index, in `ready`, of the connection to carry the next call; `ready` is never empty. */
export type Choose = (ready: readonly Pickable[]) => number;

/**
 * @internal
 * The pick of a pool. `random` and `now` are injectable so tests can seed and
 * fix them; round robin starts at a random place so clients made together do
 * not all start on the same backend.
 */
export function chooser(
  policy: PickPolicy,
  random: () => number = Math.random,
  now: () => number = performance.now.bind(performance),
): Choose {
  if (policy === "roundRobin") {
    let next = Math.floor(random() * 1024);
    return (ready) => next++ % ready.length;
  }
  return (ready) => {
    const n = ready.length;
    if (n === 1) return 0;
    const a = Math.floor(random() * n);
    let b = 0;
    // Two distinct connections, preferably to two backends: with several
    // connections per backend, two of one backend would be no choice at all.
    for (let draw = 0; draw < REDRAWS; draw++) {
      b = Math.floor(random() * (n - 1));
      if (b >= a) b++;
      if (ready[b]!.backend !== ready[a]!.backend) break;
    }
    const at = now();
    return ready[b]!.cost(at) < ready[a]!.cost(at) ? b : a;
  };
}
