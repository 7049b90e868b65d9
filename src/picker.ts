import type { PickPolicy } from "./strategy.js";

/** What a picker needs to know of each member. */
export interface Pickable {
  /** Calls started on this member and not yet ended. */
  inFlight: number;
  /** False while the member cannot carry calls (its connections are failing). */
  usable(): boolean;
}

/** Returns the index of the member to carry the next call. */
export type Picker = () => number;

/**
 * Builds a picker over a fixed list of members. Members that are not usable are
 * skipped while any other member is usable; if none is, the policy's own choice
 * is returned so the call fails (or waits for ready) the way grpc-js decides.
 */
export function createPicker(
  policy: PickPolicy,
  members: readonly Pickable[],
  random: () => number = Math.random,
): Picker {
  const n = members.length;
  if (n === 1) return () => 0;
  if (policy === "roundRobin") {
    let next = 0;
    return () => {
      const first = next;
      next = (next + 1) % n;
      if (members[first]!.usable()) return first;
      for (let i = 1; i < n; i++) {
        const index = (first + i) % n;
        if (members[index]!.usable()) {
          next = (index + 1) % n;
          return index;
        }
      }
      return first;
    };
  }
  return () => {
    const a = Math.floor(random() * n);
    let b = Math.floor(random() * (n - 1));
    if (b >= a) b++; // two distinct members
    const ma = members[a]!;
    const mb = members[b]!;
    const aUsable = ma.usable();
    const bUsable = mb.usable();
    if (aUsable && bUsable) return mb.inFlight < ma.inFlight ? b : a;
    if (aUsable) return a;
    if (bUsable) return b;
    return leastLoadedUsable(members) ?? a;
  };
}

function leastLoadedUsable(members: readonly Pickable[]): number | undefined {
  let best: number | undefined;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (m.usable() && (best === undefined || m.inFlight < members[best]!.inFlight)) best = i;
  }
  return best;
}
