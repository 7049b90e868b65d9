/** @internal The absolute deadline (epoch ms) of a call's `deadline` option at `now`, or Infinity. */
export function absoluteDeadline(deadline: Date | number | undefined, now: number): number {
  if (deadline === undefined) return Infinity;
  return deadline instanceof Date ? deadline.getTime() : now + deadline;
}
