import type { PickPolicy } from "../strategy.js";

/** What a pick needs to know of a connection. */
export interface Pickable {
  /** The backend it is connected to (its address). */
  readonly backend: string;
  /** How busy it is at `now`: the less, the better. */
  cost(now: number): number;
  /** Whether its backend takes calls at `now` (not taken out for failing); `now` is read when not given. */
  available(now?: number): boolean;
}

/** Random draws to find a connection that suits before scanning for one. */
const REDRAWS = 3;

/**
 * Returns the index, in `ready`, of the connection to carry the next call;
 * `ready` is never empty. Connections whose backend is unavailable, or in
 * `avoid` (backends the call's earlier attempts went to), are passed over
 * while another suits; when none does, any will.
 */
export type Choose = (ready: readonly Pickable[], avoid?: ReadonlySet<string>) => number;

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
      for (let i = 0; i < n; i++) {
        const index = (first + i) % n;
        if (suits(ready[index]!, undefined, avoid)) {
          next += i;
          return index;
        }
      }
      return first;
    };
  }
  return (ready, avoid) => {
    const n = ready.length;
    if (n === 1) return 0;
    const at = now();
    const a = draw(ready, n, at, avoid, random, -1);
    let b = 0;
    // Two distinct connections, preferably to two backends: with several
    // connections per backend, two of one backend would be no choice at all.
    for (let attempt = 0; attempt < REDRAWS; attempt++) {
      b = draw(ready, n - 1, at, avoid, random, a);
      if (ready[b]!.backend !== ready[a]!.backend) break;
    }
    const aSuits = suits(ready[a]!, at, avoid);
    if (aSuits !== suits(ready[b]!, at, avoid)) return aSuits ? a : b;
    return ready[b]!.cost(at) < ready[a]!.cost(at) ? b : a;
  };
}

function suits(connection: Pickable, now: number | undefined, avoid: ReadonlySet<string> | undefined): boolean {
  return connection.available(now) && !avoid?.has(connection.backend);
}

/**
 * A random index that suits (other than `except`, if ≥ 0; `range` is how many
 * there are to draw from): a few random draws, then a scan from the last draw.
 */
function draw(
  ready: readonly Pickable[],
  range: number,
  now: number,
  avoid: ReadonlySet<string> | undefined,
  random: () => number,
  except: number,
): number {
  const at = (i: number) => (except >= 0 && i >= except ? i + 1 : i);
  let index = 0;
  for (let attempt = 0; attempt < REDRAWS; attempt++) {
    index = at(Math.floor(random() * range));
    if (suits(ready[index]!, now, avoid)) return index;
  }
  const n = ready.length;
  for (let i = 1; i < n; i++) {
    const candidate = (index + i) % n;
    if (candidate !== except && suits(ready[candidate]!, now, avoid)) return candidate;
  }
  return index;
}
