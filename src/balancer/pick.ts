import type { PickPolicy } from "../strategy.js";
import type { Avoid, Route } from "./pick-note.js";

/** What a pick needs to know of a connection. */
export interface Pickable {
  /** Its transport and backend, as calls name them in {@link Avoid}. */
  readonly route: Route;
  /** The backend it is connected to (its address). */
  readonly backend: string;
  /** How busy it is at `now`: the less, the better. */
  cost(now: number): number;
  /** Whether its backend takes calls now (not taken out for failing). */
  available(): boolean;
}

/** Random draws to find a connection that suits before scanning for one. */
const REDRAWS = 3;

/**
 * Returns the index, in `ready`, of the connection to carry the next call;
 * `ready` is never empty. Connections suit less, in this order, when they
 * are in `avoid` (the connections of the call's other attempts), when they
 * are unavailable (taken out for failing), and when their backend is in
 * `avoid`: the pick takes the best suited there is, so a retry goes to
 * another backend if there is one, else to another connection of the same
 * backend (behind an L4 balancer, likely another server), else anywhere.
 */
export type Choose = (ready: readonly Pickable[], avoid?: Avoid) => number;

/** @internal How badly a connection suits a call's pick (0: fully); see {@link Choose}. */
export function misfit(connection: Pickable, avoid: Avoid | undefined): number {
  let misfit = connection.available() ? 0 : 2;
  if (avoid) {
    if (avoid.connections.has(connection.route.connection)) misfit += 4;
    if (avoid.backends.has(connection.route.backend)) misfit += 1;
  }
  return misfit;
}

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
    return (ready, avoid) => {
      const n = ready.length;
      const first = next++ % n;
      if (n === 1) return first;
      // Pass over what does not suit, in turn; the turn moves on past it.
      let best = first;
      let bestMisfit = Number.POSITIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const index = (first + i) % n;
        const m = misfit(ready[index]!, avoid);
        if (m === 0) {
          next += i;
          return index;
        }
        if (m < bestMisfit) {
          best = index;
          bestMisfit = m;
        }
      }
      return best;
    };
  }
  return (ready, avoid) => {
    const n = ready.length;
    if (n === 1) return 0;
    const at = now();
    const a = draw(ready, n, avoid, random, -1);
    let b = 0;
    // Two distinct connections, preferably to two backends: with several
    // connections per backend, two of one backend would be no choice at all.
    for (let attempt = 0; attempt < REDRAWS; attempt++) {
      b = draw(ready, n - 1, avoid, random, a);
      if (ready[b]!.backend !== ready[a]!.backend) break;
    }
    const aMisfit = misfit(ready[a]!, avoid);
    const bMisfit = misfit(ready[b]!, avoid);
    if (aMisfit !== bMisfit) return aMisfit < bMisfit ? a : b;
    return ready[b]!.cost(at) < ready[a]!.cost(at) ? b : a;
  };
}

/**
 * A random index that suits best (other than `except`, if ≥ 0; `range` is
 * how many there are to draw from): a few random draws for one that fully
 * suits, then a scan from the last draw for the best suited.
 */
function draw(
  ready: readonly Pickable[],
  range: number,
  avoid: Avoid | undefined,
  random: () => number,
  except: number,
): number {
  const at = (i: number) => (except >= 0 && i >= except ? i + 1 : i);
  let index = 0;
  for (let attempt = 0; attempt < REDRAWS; attempt++) {
    index = at(Math.floor(random() * range));
    if (misfit(ready[index]!, avoid) === 0) return index;
  }
  const n = ready.length;
  let best = index;
  let bestMisfit = misfit(ready[index]!, avoid);
  for (let i = 1; i < n && bestMisfit > 0; i++) {
    const candidate = (index + i) % n;
    if (candidate === except) continue;
    const m = misfit(ready[candidate]!, avoid);
    if (m < bestMisfit) {
      best = candidate;
      bestMisfit = m;
    }
  }
  return best;
}
