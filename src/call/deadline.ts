/** @internal The absolute deadline (epoch ms) of a call's `deadline` option, or Infinity. */
export function absoluteDeadline(deadline: Date | number | undefined): number {
  if (deadline === undefined) return Infinity;
  return deadline instanceof Date ? deadline.getTime() : Date.now() + deadline;
}
