import { type ClientOptions, type HedgingOptions, pickFirst, pool, roundRobin, type Strategy } from "balanced-grpc";
import type { Prng } from "./prng.js";

/** The strategies every soak mixes, by display name. */
export const STRATEGIES: Readonly<Record<string, () => Strategy>> = {
  "pickFirst()": () => pickFirst(),
  "roundRobin()": () => roundRobin(),
  "pool(2)": () => pool(2),
  "pool()": () => pool(),
};

/** How one client of the soak is made: drawn, so a seed makes the same clients. */
export interface ClientConfig {
  /** `c7`: the 7th client made. */
  id: string;
  strategy: keyof typeof STRATEGIES;
  /** Client hedging for its idempotent method (SayHello). */
  hedging: boolean | HedgingOptions;
  keepalive: boolean;
  /** Client-side connection recycling, ms (at least 1000). */
  maxConnectionAge?: number;
  outlierDetection: boolean;
}

/** Draws the n-th client's settings. */
export function drawClientConfig(prng: Prng, n: number): ClientConfig {
  const config: ClientConfig = {
    id: `c${n}`,
    strategy: prng.pick(Object.keys(STRATEGIES)),
    hedging: prng.chance(0.35) ? prng.pick([true, { delayMs: prng.int(5, 50) }]) : false,
    keepalive: prng.chance(0.5),
    outlierDetection: prng.chance(0.15),
  };
  if (prng.chance(0.15)) config.maxConnectionAge = prng.int(1_000, 3_000);
  return config;
}

/** The client options of a config, for `target`. */
export function clientOptions(config: ClientConfig, target: string): ClientOptions {
  return {
    target,
    strategy: STRATEGIES[config.strategy]!(),
    hedging: config.hedging,
    keepalive: config.keepalive,
    outlierDetection: config.outlierDetection,
    ...(config.maxConnectionAge === undefined ? {} : { maxConnectionAge: config.maxConnectionAge }),
  };
}

/** A config in a few words, for evidence. */
export function describeClient(config: ClientConfig): string {
  const parts = [config.id, config.strategy];
  if (config.hedging) parts.push(config.hedging === true ? "hedging" : `hedging ${String(config.hedging.delayMs)} ms`);
  if (config.keepalive) parts.push("keepalive");
  if (config.maxConnectionAge) parts.push(`maxConnectionAge ${config.maxConnectionAge}`);
  if (config.outlierDetection) parts.push("outlierDetection");
  return parts.join(", ");
}
