import { describe, expect, test } from "vitest";
import { BALANCER_NAME, BalancerConfig } from "../../src/balancer/balancer-config.js";

const good = {
  mode: "pool",
  min: 1,
  max: 4,
  idleMs: 1_000,
  pick: "p2c",
  probeStreamLimit: false,
  maxConnectionAgeMs: 5_000,
  failureAccrual: { consecutiveFailures: 5, baseEjectionMs: 1_000, maxEjectionMs: 2_000 },
  healthCheck: { serviceName: "" },
};

describe("the policy's config, as grpc-js parses it: a bad field is named", () => {
  test("a good one round-trips", () => {
    const config = BalancerConfig.createFromJson(good);
    expect(config.getLoadBalancerName()).toBe(BALANCER_NAME);
    expect(config.settings).toMatchObject(good);
    expect(config.toJsonObject()).toEqual({ [BALANCER_NAME]: config.settings });
    expect(BalancerConfig.createFromJson({ ...good, failureAccrual: undefined }).settings.failureAccrual).toBe(false);
    expect(BalancerConfig.createFromJson({ ...good, healthCheck: undefined }).settings.healthCheck).toBe(false);
    expect(BalancerConfig.createFromJson({ ...good, healthCheck: false }).settings.healthCheck).toBe(false);
    expect(BalancerConfig.createFromJson({ ...good, maxConnectionAgeMs: undefined }).settings.maxConnectionAgeMs).toBe(
      undefined,
    );
    // A grace of 0 (cancel at once) is a grace; a fixed pool gives its streams per connection.
    expect(
      BalancerConfig.createFromJson({ ...good, maxConnectionAgeGraceMs: 0 }).settings.maxConnectionAgeGraceMs,
    ).toBe(0);
    expect(BalancerConfig.createFromJson({ ...good, streamsPerConnection: 1 }).settings.streamsPerConnection).toBe(1);
    expect(BalancerConfig.createFromJson({ ...good, max: 1 }).settings.max).toBe(1);
  });

  test.each([
    ["mode", "fast", /mode is "fast", expected pickFirst \| roundRobin \| pool/],
    ["min", 0, /min is 0, expected an integer ≥ 1/],
    ["min", 1.5, /min is 1.5/],
    ["max", 0, /max is 0, expected an integer ≥ min \(1\)/],
    ["max", 2.5, /max is 2.5, expected an integer ≥ min \(1\)/],
    ["idleMs", 0, /idleMs is 0, expected a number of ms > 0$/],
    ["idleMs", "1s", /idleMs is "1s"/],
    ["pick", "random", /pick is "random", expected p2c \| roundRobin/],
    ["streamsPerConnection", 0, /streamsPerConnection is 0, expected an integer ≥ 1, or no field$/],
    ["probeStreamLimit", "yes", /probeStreamLimit is "yes", expected true \| false$/],
    ["maxConnectionAgeMs", 0, /maxConnectionAgeMs is 0, expected a number of ms > 0, or no field$/],
    ["maxConnectionAgeMs", "1m", /maxConnectionAgeMs is "1m"/],
    ["maxConnectionAgeGraceMs", -1, /maxConnectionAgeGraceMs is -1, expected a number of ms ≥ 0, or no field$/],
    ["maxConnectionAgeGraceMs", "1s", /maxConnectionAgeGraceMs is "1s"/],
    ["healthCheck", null, /healthCheck is null, expected false, or \{ serviceName \}, or no field$/],
    [
      "failureAccrual",
      { consecutiveFailures: 0, baseEjectionMs: 1, maxEjectionMs: 1 },
      /failureAccrual.consecutiveFailures is 0/,
    ],
    ["failureAccrual", { consecutiveFailures: 1, baseEjectionMs: 1 }, /failureAccrual.maxEjectionMs is undefined/],
    ["healthCheck", true, /healthCheck is true, expected false, or \{ serviceName \}/],
    ["healthCheck", {}, /healthCheck.serviceName is undefined, expected a string/],
    ["healthCheck", { serviceName: "", interval: 5 }, /healthCheck.interval is 5, expected no such field/],
  ])("%s = %j", (field, value, message) => {
    expect(() => BalancerConfig.createFromJson({ ...good, [field]: value })).toThrow(message);
  });

  test("nothing at all", () => {
    expect(() => BalancerConfig.createFromJson(undefined)).toThrow(/mode/);
  });

  test("the message names the policy, the field, the value and what was expected", () => {
    expect(() => BalancerConfig.createFromJson({ ...good, min: 0 })).toThrow(
      `${BALANCER_NAME} config: field min is 0, expected an integer ≥ 1`,
    );
  });
});
