import { checkDuration, checkFraction, checkInteger, checkKnownKeys, checkObject } from "../check.js";
import { DEFAULT_HEDGING } from "../defaults.js";
import { InvalidOptionError } from "../errors.js";

/** @internal Hedging settings with every default applied. */
export interface ResolvedHedging {
  delayMs: number | "auto";
  /** Hedges after the first attempt, at most. */
  maxHedges: number;
  budget: number;
}

/** @internal Hedging settings from the client's `hedging` or a call's `hedge` (`true` or settings), over `base`. */
export function resolveHedging(
  option: string,
  value: unknown,
  base: ResolvedHedging = DEFAULT_HEDGING,
  perCall = false,
): ResolvedHedging {
  const keys = perCall ? ["delayMs", "maxHedges"] : Object.keys(DEFAULT_HEDGING);
  const given =
    value === true ? {} : (checkObject(option, value, `expected true, false or { ${keys.join(", ")} }`) ?? {});
  if (given.maxAttempts !== undefined) {
    throw new InvalidOptionError(
      `${option}.maxAttempts`,
      given.maxAttempts,
      `expected maxHedges instead: hedges after the first attempt (maxAttempts counted the first; ${given.maxAttempts} attempts is maxHedges: ${Number(given.maxAttempts) - 1})`,
    );
  }
  if (perCall && given.budget !== undefined) {
    throw new InvalidOptionError(
      `${option}.budget`,
      given.budget,
      "expected no budget per call: the hedge budget is the client's (its hedging.budget), shared by all its calls",
    );
  }
  checkKnownKeys(option, given, keys, `${option}.`);
  const delayMs = given.delayMs ?? base.delayMs;
  return {
    delayMs: delayMs === "auto" ? "auto" : checkDuration(`${option}.delayMs`, delayMs),
    maxHedges: checkInteger(`${option}.maxHedges`, given.maxHedges ?? base.maxHedges, 1, 4),
    budget: checkFraction(`${option}.budget`, given.budget ?? base.budget, 1),
  };
}
