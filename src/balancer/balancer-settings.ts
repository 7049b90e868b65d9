import type { ChannelCredentials, ChannelOptions } from "@grpc/grpc-js";
import { checkDuration, checkInteger, checkKnownKeys, checkObject } from "../check.js";
import { DEFAULT_FAILURE_ACCRUAL, DEFAULT_HEALTH_CHECK, DEFAULT_POOL_IDLE_MS } from "../defaults.js";
import { InvalidOptionError } from "../errors.js";
import { isAdaptive, type Strategy } from "../strategy.js";
import { proxyVariable } from "../transport/http-proxy.js";
import type { BalancerSettings } from "./balancer-config.js";

/**
 * How many connections the balancer keeps per address, how it picks, and how
 * it learns each server's stream limit. A fixed pool is one whose `min` and
 * `max` are equal; `roundRobin()` is `pool(1, { pick: "roundRobin" })`.
 */
export function balancerPool(
  strategy: Strategy,
  credentials: ChannelCredentials,
  channelOptions: ChannelOptions,
): Omit<BalancerSettings, "maxConnectionAgeMs" | "failureAccrual" | "healthCheck"> {
  const pool = strategy.kind === "pool" ? strategy : undefined;
  const min = pool ? (pool.size ?? pool.min) : 1;
  const max = pool ? (pool.size ?? pool.max) : 1;
  const streams = pool?.streamsPerConnection;
  return {
    mode: strategy.kind,
    min,
    max,
    idleMs: pool && isAdaptive(pool) ? pool.idleMs : DEFAULT_POOL_IDLE_MS,
    pick: pool ? pool.pick : "roundRobin",
    ...(streams === undefined ? {} : { streamsPerConnection: streams }),
    // The limit matters where picks choose among connections. Only plain-text
    // connections made straight to the server can be probed (a probe cannot
    // speak TLS as the client's credentials do, nor go through its proxy).
    probeStreamLimit:
      strategy.kind !== "pickFirst" && streams === undefined && !credentials._isSecure() && !usesProxy(channelOptions),
  };
}

/** Whether grpc-js would connect through an HTTP proxy (its environment variables), as it decides. */
function usesProxy(channelOptions: ChannelOptions): boolean {
  if (channelOptions["grpc.enable_http_proxy"] === 0) return false;
  return proxyVariable() !== undefined;
}

/** @internal The `failureAccrual` option, checked, with every default applied. */
export function resolveFailureAccrual(value: unknown): BalancerSettings["failureAccrual"] {
  if (value === false) return false;
  const given =
    value === undefined || value === true
      ? {}
      : (checkObject(
          "failureAccrual",
          value,
          "expected true, false or { consecutiveFailures, baseEjectionMs, maxEjectionMs }",
        ) ?? {});
  checkKnownKeys("failureAccrual", given, Object.keys(DEFAULT_FAILURE_ACCRUAL), "failureAccrual.");
  const d = DEFAULT_FAILURE_ACCRUAL;
  const resolved = {
    consecutiveFailures: checkInteger(
      "failureAccrual.consecutiveFailures",
      given.consecutiveFailures ?? d.consecutiveFailures,
      1,
      1_000_000,
    ),
    baseEjectionMs: checkDuration("failureAccrual.baseEjectionMs", given.baseEjectionMs ?? d.baseEjectionMs, 1),
    maxEjectionMs: checkDuration("failureAccrual.maxEjectionMs", given.maxEjectionMs ?? d.maxEjectionMs, 1),
  };
  if (resolved.maxEjectionMs < resolved.baseEjectionMs) {
    throw new InvalidOptionError(
      "failureAccrual.maxEjectionMs",
      resolved.maxEjectionMs,
      "expected at least baseEjectionMs",
    );
  }
  return resolved;
}

/** @internal The `healthCheck` option, checked, with every default applied. */
export function resolveHealthCheck(value: unknown): BalancerSettings["healthCheck"] {
  if (value === false) return false;
  const given =
    value === undefined || value === true
      ? {}
      : (checkObject("healthCheck", value, "expected true, false or { serviceName }") ?? {});
  checkKnownKeys("healthCheck", given, Object.keys(DEFAULT_HEALTH_CHECK), "healthCheck.");
  const serviceName = given.serviceName ?? DEFAULT_HEALTH_CHECK.serviceName;
  if (typeof serviceName !== "string") {
    throw new InvalidOptionError(
      "healthCheck.serviceName",
      serviceName,
      'expected a string: a service\'s full name, or "" for the server as a whole',
    );
  }
  return { serviceName };
}
