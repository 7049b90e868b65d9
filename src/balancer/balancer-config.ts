import type { experimental } from "@grpc/grpc-js";
import { PICK_POLICIES, type PickPolicy, STRATEGY_KINDS, type StrategyName } from "../strategy.js";
import type { ResolvedFailureAccrual } from "./backend-health.js";
import type { ResolvedHealthCheck } from "./health-watch.js";

/** The name of the SDK's load-balancing policy in a grpc-js service config. */
export const BALANCER_NAME = "balanced_grpc";

/** @internal The load-balancing policy a channel runs: the strategy, and how it recycles. */
export interface BalancerSettings {
  mode: StrategyName;
  /** Fewest connections per resolved address (1 unless `pool`). */
  min: number;
  /** Most connections per resolved address: `min` for every strategy but an adaptive pool. */
  max: number;
  /** How long an address's calls must fit in one connection fewer before one closes, ms. */
  idleMs: number;
  pick: PickPolicy;
  /** The stream limit per connection the user set, if any. */
  streamsPerConnection?: number | undefined;
  /** Whether to read each address's stream limit from the server (see stream-limit.ts). */
  probeStreamLimit: boolean;
  /** Client-side max connection age, ms, or undefined to keep connections. */
  maxConnectionAgeMs: number | undefined;
  /** How long calls on a recycled connection may still run, ms, or undefined for as long as they take. */
  maxConnectionAgeGraceMs?: number | undefined;
  /** Taking failing backends out for a while, or false. */
  failureAccrual: ResolvedFailureAccrual | false;
  /** Client-side health checking (a grpc.health.v1 Watch per connection), or false. */
  healthCheck: ResolvedHealthCheck | false;
}

/**
 * @internal
 * The policy's config, as grpc-js parses it from the service config. The
 * client's options were checked already; this check is grpc-js's contract
 * (a config it cannot parse would fall back to pick_first), and names the
 * field that is wrong.
 */
export class BalancerConfig implements experimental.TypedLoadBalancingConfig {
  constructor(readonly settings: BalancerSettings) {}

  getLoadBalancerName(): string {
    return BALANCER_NAME;
  }

  toJsonObject(): object {
    return { [BALANCER_NAME]: this.settings };
  }

  static createFromJson(json: unknown): BalancerConfig {
    const {
      mode,
      min,
      max,
      idleMs,
      pick,
      streamsPerConnection,
      probeStreamLimit,
      maxConnectionAgeMs,
      maxConnectionAgeGraceMs,
      failureAccrual,
      healthCheck,
    } = (json ?? {}) as Record<string, unknown>;
    const bad = (field: string, value: unknown, expected: string) =>
      new Error(`${BALANCER_NAME} config: field ${field} is ${JSON.stringify(value)}, expected ${expected}`);
    const atLeast = (value: unknown, least: number) => Number.isInteger(value) && (value as number) >= least;
    if (!STRATEGY_KINDS.includes(mode as StrategyName)) throw bad("mode", mode, STRATEGY_KINDS.join(" | "));
    if (!atLeast(min, 1)) throw bad("min", min, "an integer ≥ 1");
    if (!atLeast(max, min as number)) throw bad("max", max, `an integer ≥ min (${min})`);
    if (!(typeof idleMs === "number" && idleMs > 0)) throw bad("idleMs", idleMs, "a number of ms > 0");
    if (!PICK_POLICIES.includes(pick as PickPolicy)) throw bad("pick", pick, PICK_POLICIES.join(" | "));
    if (streamsPerConnection !== undefined && !atLeast(streamsPerConnection, 1)) {
      throw bad("streamsPerConnection", streamsPerConnection, "an integer ≥ 1, or no field");
    }
    if (typeof probeStreamLimit !== "boolean") throw bad("probeStreamLimit", probeStreamLimit, "true | false");
    if (maxConnectionAgeMs !== undefined && !(typeof maxConnectionAgeMs === "number" && maxConnectionAgeMs > 0)) {
      throw bad("maxConnectionAgeMs", maxConnectionAgeMs, "a number of ms > 0, or no field");
    }
    if (
      maxConnectionAgeGraceMs !== undefined &&
      !(typeof maxConnectionAgeGraceMs === "number" && maxConnectionAgeGraceMs >= 0)
    ) {
      throw bad("maxConnectionAgeGraceMs", maxConnectionAgeGraceMs, "a number of ms ≥ 0, or no field");
    }
    if (failureAccrual !== undefined && failureAccrual !== false) {
      const fields = (failureAccrual ?? {}) as Record<string, unknown>;
      for (const field of ["consecutiveFailures", "baseEjectionMs", "maxEjectionMs"]) {
        const value = fields[field];
        if (!(typeof value === "number" && value >= 1)) throw bad(`failureAccrual.${field}`, value, "a number ≥ 1");
      }
    }
    if (healthCheck !== undefined && healthCheck !== false) {
      const { serviceName, ...rest } = (healthCheck ?? {}) as Record<string, unknown>;
      if (healthCheck === null || typeof healthCheck !== "object") {
        throw bad("healthCheck", healthCheck, "false, or { serviceName }, or no field");
      }
      if (typeof serviceName !== "string") throw bad("healthCheck.serviceName", serviceName, "a string");
      const extra = Object.keys(rest)[0];
      if (extra !== undefined) throw bad(`healthCheck.${extra}`, rest[extra], "no such field");
    }
    return new BalancerConfig({
      mode: mode as StrategyName,
      min: min as number,
      max: max as number,
      idleMs,
      pick: pick as PickPolicy,
      streamsPerConnection: streamsPerConnection as number | undefined,
      probeStreamLimit,
      maxConnectionAgeMs: maxConnectionAgeMs as number | undefined,
      maxConnectionAgeGraceMs: maxConnectionAgeGraceMs as number | undefined,
      failureAccrual: (failureAccrual ?? false) as ResolvedFailureAccrual | false,
      healthCheck: (healthCheck ?? false) as ResolvedHealthCheck | false,
    });
  }
}
