import type { PickPolicy } from "../strategy.js";

/** What a pick needs to know of a connection. */
export interface Pickable {
  /** Calls started on this connection and not yet ended. */
  readonly inFlight: number;
}

/** Returns the index, in `ready`, of the connection to carry the next call; `ready` is never empty. */
export type Choose = (ready: readonly Pickable[]) => number;

/**
 * @internal
 * The pick of a pool. `random` is injectable so tests can seed it; round
 * robin starts at a random place so clients made together do not all start
 * on the same backend.
 */
export function chooser(policy: PickPolicy, random: () => number = Math.random): Choose {
  if (policy === "roundRobin") {
    let next = Math.floor(random() * 1024);
    return (ready) => next++ % ready.length;
  }
  return (ready) => {
    const n = ready.length;
    if (n === 1) return 0;
    const a = Math.floor(random() * n);
    let b = Math.floor(random() * (n - 1));
    if (b >= a) b++; // two distinct connections
    return ready[b]!.inFlight < ready[a]!.inFlight ? b : a;
  };
}
