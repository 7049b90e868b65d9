import { createPicker, type Pickable } from "../src/picker.js";
import type { PickPolicy } from "../src/strategy.js";

/** Nanoseconds per pick of `policy` over `size` members (2,000,000 picks after a warm-up). */
export function pickCost(policy: PickPolicy, size: number): number {
  const members: Pickable[] = Array.from({ length: size }, (_, i) => ({ inFlight: i % 3, usable: () => true }));
  const pick = createPicker(policy, members);
  const picks = 2_000_000;
  let sink = 0;
  for (let i = 0; i < 100_000; i++) sink += pick(); // let the JIT compile it first
  const started = process.hrtime.bigint();
  for (let i = 0; i < picks; i++) sink += pick();
  const ns = Number(process.hrtime.bigint() - started) / picks;
  if (sink < 0) console.log(sink); // keeps the loop from being optimised away
  return ns;
}
