import type { ConnectionStats } from "./connection.js";

/** What a pool asks of the balancer that serves it. */
export interface StatsSource {
  stats(): ConnectionStats[];
}

// A grpc-js load-balancing policy is made by grpc-js from a JSON config, so a
// pool and its balancer meet through an id in that config.
let lastId = 0;
const sources = new Map<number, StatsSource>();

/** @internal A fresh id for a pool's balancer config. */
export function newPoolId(): number {
  return ++lastId;
}

/** @internal The balancer now serving `id`. */
export function attach(id: number, source: StatsSource): void {
  sources.set(id, source);
}

/** @internal A balancer going away. */
export function detach(id: number, source: StatsSource): void {
  if (sources.get(id) === source) sources.delete(id);
}

/** @internal Connections of pool `id`, or none before its first resolution. */
export function statsOf(id: number): ConnectionStats[] {
  return sources.get(id)?.stats() ?? [];
}
