import { describe, expect, test } from "vitest";
import { resolveClientOptions } from "../../src/client-settings.js";
import {
  DEFAULT_CHANNEL_OPTIONS,
  DEFAULT_FAILURE_ACCRUAL,
  DEFAULT_HEALTH_CHECK,
  DEFAULT_OUTLIER_DETECTION,
  DEFAULT_POOL_IDLE_MS,
  DEFAULT_RETRY,
  DEFAULT_RETRY_BUDGET,
} from "../../src/defaults.js";
import { InvalidOptionError } from "../../src/errors.js";
import { resolveStrategy } from "../../src/resolve-strategy.js";
import { pool } from "../../src/strategy.js";

/** The option an InvalidOptionError names, or the error itself if another was thrown. */
function rejected(make: () => unknown): string | unknown {
  try {
    make();
  } catch (error) {
    return error instanceof InvalidOptionError ? error.option : error;
  }
  return "accepted";
}

describe("resolveClientOptions: every default applied in one place", () => {
  test("a target alone", () => {
    const settings = resolveClientOptions({ target: "greeter:50051" });
    expect(settings.channel.strategy).toEqual({ kind: "pickFirst" });
    expect(settings.channel.balancer).toEqual({
      mode: "pickFirst",
      min: 1,
      max: 1,
      idleMs: DEFAULT_POOL_IDLE_MS,
      pick: "roundRobin",
      probeStreamLimit: false, // one connection: its limit decides nothing
      maxConnectionAgeMs: undefined,
      failureAccrual: DEFAULT_FAILURE_ACCRUAL,
      healthCheck: DEFAULT_HEALTH_CHECK, // on: the server as a whole
    });
    expect(settings.channel.channelOptions).toEqual(DEFAULT_CHANNEL_OPTIONS);
    expect(settings.channel.outlierDetection).toBeUndefined();
    expect(settings.channel.serviceConfig).toBeUndefined();
    expect(settings.retry).toEqual(DEFAULT_RETRY);
    expect(settings.retryBudget).toEqual(DEFAULT_RETRY_BUDGET);
    expect(settings.hedging).toBe(false);
    expect(settings.middleware).toEqual([]);
    expect(settings.defaultCallOptions).toEqual({});
  });

  test("pool by name and by value are the same strategy", () => {
    expect(resolveStrategy({ strategy: "pool", size: 3, pick: "roundRobin" })).toEqual(pool(3, { pick: "roundRobin" }));
    expect(resolveStrategy({ strategy: pool(3) })).toEqual({ kind: "pool", size: 3, pick: "p2c" });
    expect(resolveStrategy({ strategy: "pool", max: 4, idleMs: 500 })).toEqual(pool({ max: 4, idleMs: 500 }));
  });

  test("pool() sizes itself: min 1, max 16, idle 30 s; a fixed pool is min = max", () => {
    expect(pool()).toEqual({ kind: "pool", min: 1, max: 16, idleMs: 30_000, pick: "p2c" });
    expect(resolveStrategy({ strategy: "pool" })).toEqual(pool());
    expect(pool({ min: 20 }).max).toBe(20); // the default max never goes below min
    const balancer = (options: object) => resolveClientOptions({ target: "t:1", ...options }).channel.balancer;
    expect(balancer({ strategy: pool() })).toMatchObject({ mode: "pool", min: 1, max: 16, probeStreamLimit: true });
    expect(balancer({ strategy: pool(3) })).toMatchObject({ min: 3, max: 3, probeStreamLimit: true });
    expect(balancer({ strategy: pool({ streamsPerConnection: 10 }) })).toMatchObject({
      streamsPerConnection: 10,
      probeStreamLimit: false, // the option wins: nothing to learn
    });
    expect(balancer({ strategy: "roundRobin" })).toMatchObject({ min: 1, max: 1, probeStreamLimit: true });
  });

  test("channel options go over the SDK's; keepalive and the user's service config are kept", () => {
    const settings = resolveClientOptions({
      target: "greeter:1",
      keepalive: { timeMs: 5_000 },
      channelOptions: { "grpc.enable_channelz": 1, "grpc.service_config": JSON.stringify({ methodConfig: [] }) },
    });
    expect(settings.channel.channelOptions).toMatchObject({
      "grpc.enable_channelz": 1,
      "grpc.keepalive_time_ms": 5_000,
      "grpc.keepalive_timeout_ms": 1_000,
      "grpc.dns_min_time_between_resolutions_ms": 1_000,
    });
    expect(settings.channel.serviceConfig).toEqual({ methodConfig: [] });
  });

  test("outlierDetection: true is grpc-js's outlier_detection with the SDK's defaults", () => {
    const config = resolveClientOptions({ target: "greeter:1", outlierDetection: true }).channel.outlierDetection;
    expect(config).toEqual({
      interval: { seconds: 1, nanos: 0 },
      base_ejection_time: { seconds: DEFAULT_OUTLIER_DETECTION.baseEjectionTimeMs / 1000, nanos: 0 },
      max_ejection_time: { seconds: 60, nanos: 0 },
      max_ejection_percent: 50,
      failure_percentage_ejection: { threshold: 30, enforcement_percentage: 100, minimum_hosts: 2, request_volume: 20 },
    });
    const custom = resolveClientOptions({ target: "t:1", outlierDetection: { intervalMs: 2_500 } }).channel
      .outlierDetection;
    expect(custom?.interval).toEqual({ seconds: 2, nanos: 500_000_000 });
  });

  test("healthCheck: on by default; false turns it off; serviceName picks the name to watch", () => {
    const healthCheck = (options: object) =>
      resolveClientOptions({ target: "t:1", ...options }).channel.balancer.healthCheck;
    expect(healthCheck({})).toEqual({ serviceName: "" });
    expect(healthCheck({ healthCheck: true })).toEqual({ serviceName: "" });
    expect(healthCheck({ healthCheck: {} })).toEqual({ serviceName: "" });
    expect(healthCheck({ healthCheck: false })).toBe(false);
    expect(healthCheck({ healthCheck: { serviceName: "shop.orders.v1.Orders" } })).toEqual({
      serviceName: "shop.orders.v1.Orders",
    });
    expect(() => resolveClientOptions({ target: "t:1", healthCheck: { serviceNme: "x" } })).toThrow(
      /healthCheck.serviceNme.*did you mean "healthCheck.serviceName"/,
    );
  });

  test.each([
    [{ target: "t:1", strategy: "Pool", size: 4 }, "strategy"], // the strategy is named first, not the size
    [{ target: "t:1", strategy: "pool", size: 0 }, "size"],
    [{ target: "t:1", strategy: "pool", max: 0 }, "pool.max"],
    [{ target: "t:1", strategy: "pool", size: 2, max: 4 }, "pool.max"],
    [{ target: "t:1", strategy: pool(), max: 4 }, "max"],
    [{ target: "t:1", strategy: "roundRobin", idleMs: 4 }, "idleMs"],
    [{ target: "t:1", size: 4 }, "size"],
    [{ target: "t:1", strategy: pool(2), pick: "p2c" }, "pick"],
    [{ target: "t:1", maxConnectionAge: 999 }, "maxConnectionAge"],
    [{ target: "t:1", maxConnectionAge: -1 }, "maxConnectionAge"],
    [{ target: "t:1", maxConnectionAge: Number.NaN }, "maxConnectionAge"],
    [{ target: "t:1", maxConnectionAge: 1_500.5 }, "maxConnectionAge"],
    [{ target: "t:1", outlierDetection: "yes" }, "outlierDetection"],
    [{ target: "t:1", outlierDetection: { intervalMs: 0 } }, "outlierDetection.intervalMs"],
    [{ target: "t:1", outlierDetection: { maxEjectionPercent: 101 } }, "outlierDetection.maxEjectionPercent"],
    [{ target: "t:1", retry: { retryMaxAttempts: -1 } }, "retry.retryMaxAttempts"],
    [{ target: "t:1", retry: { retryableStatuses: ["UNAVAILABLE"] } }, "retry.retryableStatuses"],
    [{ target: "t:1", defaultCallOptions: [] }, "defaultCallOptions"],
    [
      { target: "t:1", channelOptions: { "grpc.service_config": '{"loadBalancingConfig":[]}' } },
      'channelOptions["grpc.service_config"]',
    ],
    [{ target: "t:1", keepalive: { timeMs: 0 } }, "keepalive.timeMs"],
    [{ target: "t:1", healthCheck: "yes" }, "healthCheck"],
    [{ target: "t:1", healthCheck: { serviceName: 1 } }, "healthCheck.serviceName"],
    [{ target: "t:1", healthCheck: { service: "x" } }, "healthCheck.service"],
    [null, "options"],
  ])("refuses %j, naming %s", (options, option) => {
    expect(rejected(() => resolveClientOptions(options))).toBe(option);
  });

  test.each([
    [() => pool({ min: 0 }), "pool.min"],
    [() => pool({ min: 4, max: 2 }), "pool.max"],
    [() => pool({ idleMs: 0 }), "pool.idleMs"],
    [() => pool({ streamsPerConnection: 0 }), "pool.streamsPerConnection"],
    [() => pool({ pick: "random" as never }), "pick"],
    [() => pool(2, { max: 4 } as never), "pool.max"],
    [() => pool(0), "size"],
  ])("pool() refuses bad settings, naming them (%#)", (make, option) => {
    expect(rejected(make)).toBe(option);
  });

  test("accepts the smallest client max connection age", () => {
    expect(resolveClientOptions({ target: "t:1", maxConnectionAge: 1_000 }).channel.balancer.maxConnectionAgeMs).toBe(
      1_000,
    );
  });
});
