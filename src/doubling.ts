/**
 * @internal
 * A delay that doubles each time, from `firstMs`, and stops growing at
 * `maxMs`: retries, replays of refused streams, health Watches, stream-limit
 * probes, ejections and pickFirst()'s looks all back off this way.
 */
export function doubling(firstMs: number, maxMs: number, times: number): number {
  return Math.min(maxMs, firstMs * 2 ** times);
}
