import { credentials } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { balancerPool, resolveFailureAccrual, resolveHealthCheck } from "../../src/balancer/balancer-settings.js";
import { resolveHedging } from "../../src/call/hedging-settings.js";
import { resolveRetry, resolveRetryBudget } from "../../src/call/retry-settings.js";
import {
  DEFAULT_FAILURE_ACCRUAL,
  DEFAULT_HEDGING,
  DEFAULT_POOL_IDLE_MS,
  DEFAULT_RETRY,
  DEFAULT_RETRY_BUDGET,
} from "../../src/defaults.js";
import { InvalidOptionError } from "../../src/errors.js";
import { pickFirst, pool, roundRobin } from "../../src/strategy.js";
import { withEnvironment } from "../helpers/environment.js";

// Each resolver beside what it resolves: defaults applied, each field
// checked, and the error naming the option, the value and what was expected.

/** The InvalidOptionError's message without the package's prefix, or a failure if `make` was accepted. */
function refusal(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return (error as Error).message.replace(/^balanced-grpc: /, "");
  }
  throw new Error("accepted");
}

describe("resolveRetry", () => {
  test("false is off; undefined and {} are the defaults; each field given wins", () => {
    expect(resolveRetry(false)).toBe(false);
    expect(resolveRetry(undefined)).toEqual(DEFAULT_RETRY);
    expect(resolveRetry({})).toEqual(DEFAULT_RETRY);
    expect(
      resolveRetry({ retryBaseDelayMs: 1, retryMaxDelayMs: 2, retryMaxAttempts: 0, retryableStatuses: [14] }),
    ).toEqual({ retryBaseDelayMs: 1, retryMaxDelayMs: 2, retryMaxAttempts: 0, retryableStatuses: [14] });
  });

  test("bad input is named", () => {
    expect(refusal(() => resolveRetry(true))).toBe(
      'invalid option "retry": expected retry settings or false, got true',
    );
    expect(refusal(() => resolveRetry({ retryableStatuses: 14 }))).toBe(
      'invalid option "retry.retryableStatuses": expected an array of status codes, got 14',
    );
    expect(refusal(() => resolveRetry({ retryableStatuses: [14, 1.5] }))).toMatch(
      /^invalid option "retry.retryableStatuses": expected an array of status codes/,
    );
    expect(refusal(() => resolveRetry({ retryBaseDelayMs: -1 }))).toMatch(/^invalid option "retry.retryBaseDelayMs"/);
    expect(refusal(() => resolveRetry({ retryMaxDelayMs: "1s" }))).toMatch(/^invalid option "retry.retryMaxDelayMs"/);
    expect(refusal(() => resolveRetry({ retryMaxAttempts: -1 }))).toMatch(/^invalid option "retry.retryMaxAttempts"/);
    expect(refusal(() => resolveRetry({ maxAttempts: 2 }))).toMatch(/^invalid option "retry.maxAttempts"/);
  });
});

describe("resolveRetryBudget", () => {
  test("false is off; the defaults; each field given wins", () => {
    expect(resolveRetryBudget(false)).toBe(false);
    expect(resolveRetryBudget(undefined)).toEqual(DEFAULT_RETRY_BUDGET);
    expect(resolveRetryBudget({ ratio: 0.5 })).toEqual({ ratio: 0.5, minPerSecond: DEFAULT_RETRY_BUDGET.minPerSecond });
    expect(resolveRetryBudget({ minPerSecond: 0 })).toEqual({ ratio: DEFAULT_RETRY_BUDGET.ratio, minPerSecond: 0 });
  });

  test("bad input is named", () => {
    expect(refusal(() => resolveRetryBudget(1))).toBe(
      'invalid option "retryBudget": expected { ratio, minPerSecond } or false, got 1',
    );
    expect(refusal(() => resolveRetryBudget({ ratio: -0.1 }))).toMatch(/^invalid option "retryBudget.ratio"/);
    expect(refusal(() => resolveRetryBudget({ minPerSecond: -1 }))).toMatch(
      /^invalid option "retryBudget.minPerSecond"/,
    );
    expect(refusal(() => resolveRetryBudget({ percent: 1 }))).toMatch(/^invalid option "retryBudget.percent"/);
  });
});

describe("resolveHedging", () => {
  test("true is the defaults; fields over a base; per call, no budget", () => {
    expect(resolveHedging("hedging", true)).toEqual(DEFAULT_HEDGING);
    expect(resolveHedging("hedging", { delayMs: 7, maxHedges: 2, budget: 0.5 })).toEqual({
      delayMs: 7,
      maxHedges: 2,
      budget: 0.5,
    });
    const base = { delayMs: 3, maxHedges: 2, budget: 0.3 };
    expect(resolveHedging("hedge", { maxHedges: 4 }, base, true)).toEqual({ delayMs: 3, maxHedges: 4, budget: 0.3 });
    expect(resolveHedging("hedge", { delayMs: "auto" }, base, true).delayMs).toBe("auto");
  });

  test("bad input is named, with the way out", () => {
    expect(refusal(() => resolveHedging("hedging", 3))).toBe(
      'invalid option "hedging": expected true, false or { delayMs, maxHedges, budget }, got 3',
    );
    expect(refusal(() => resolveHedging("hedge", 3, DEFAULT_HEDGING, true))).toBe(
      'invalid option "hedge": expected true, false or { delayMs, maxHedges }, got 3',
    );
    expect(refusal(() => resolveHedging("hedging", { maxAttempts: 3 }))).toBe(
      'invalid option "hedging.maxAttempts": expected maxHedges instead: hedges after the first attempt (maxAttempts counted the first; 3 attempts is maxHedges: 2), got 3',
    );
    expect(refusal(() => resolveHedging("hedge", { budget: 0.1 }, DEFAULT_HEDGING, true))).toMatch(
      /^invalid option "hedge.budget": expected no budget per call: the hedge budget is the client's/,
    );
    expect(refusal(() => resolveHedging("hedging", { maxHedges: 0 }))).toMatch(/^invalid option "hedging.maxHedges"/);
    expect(refusal(() => resolveHedging("hedging", { maxHedges: 5 }))).toMatch(/^invalid option "hedging.maxHedges"/);
    expect(refusal(() => resolveHedging("hedging", { delayMs: -1 }))).toMatch(/^invalid option "hedging.delayMs"/);
    expect(refusal(() => resolveHedging("hedging", { budget: 2 }))).toMatch(/^invalid option "hedging.budget"/);
    expect(refusal(() => resolveHedging("hedging", { after: 1 }))).toMatch(/^invalid option "hedging.after"/);
  });
});

describe("resolveFailureAccrual", () => {
  test("false is off; undefined and true are the defaults; fields given win", () => {
    expect(resolveFailureAccrual(false)).toBe(false);
    expect(resolveFailureAccrual(undefined)).toEqual(DEFAULT_FAILURE_ACCRUAL);
    expect(resolveFailureAccrual(true)).toEqual(DEFAULT_FAILURE_ACCRUAL);
    expect(resolveFailureAccrual({ consecutiveFailures: 1, baseEjectionMs: 10, maxEjectionMs: 10 })).toEqual({
      consecutiveFailures: 1,
      baseEjectionMs: 10,
      maxEjectionMs: 10,
    });
  });

  test("bad input is named", () => {
    expect(refusal(() => resolveFailureAccrual(2))).toBe(
      'invalid option "failureAccrual": expected true, false or { consecutiveFailures, baseEjectionMs, maxEjectionMs }, got 2',
    );
    expect(refusal(() => resolveFailureAccrual({ consecutiveFailures: 0 }))).toMatch(
      /^invalid option "failureAccrual.consecutiveFailures"/,
    );
    expect(refusal(() => resolveFailureAccrual({ baseEjectionMs: 0 }))).toMatch(
      /^invalid option "failureAccrual.baseEjectionMs"/,
    );
    expect(refusal(() => resolveFailureAccrual({ baseEjectionMs: 100, maxEjectionMs: 99 }))).toBe(
      'invalid option "failureAccrual.maxEjectionMs": expected at least baseEjectionMs, got 99',
    );
    expect(refusal(() => resolveFailureAccrual({ window: 1 }))).toMatch(/^invalid option "failureAccrual.window"/);
  });
});

describe("resolveHealthCheck", () => {
  test("false is off; the server as a whole by default; a service's name", () => {
    expect(resolveHealthCheck(false)).toBe(false);
    expect(resolveHealthCheck(undefined)).toEqual({ serviceName: "" });
    expect(resolveHealthCheck(true)).toEqual({ serviceName: "" });
    expect(resolveHealthCheck({ serviceName: "shop.Orders" })).toEqual({ serviceName: "shop.Orders" });
  });

  test("bad input is named", () => {
    expect(refusal(() => resolveHealthCheck("on"))).toBe(
      `invalid option "healthCheck": expected true, false or { serviceName }, got 'on'`,
    );
    expect(refusal(() => resolveHealthCheck({ serviceName: 1 }))).toBe(
      'invalid option "healthCheck.serviceName": expected a string: a service\'s full name, or "" for the server as a whole, got 1',
    );
    expect(refusal(() => resolveHealthCheck({ service: "x" }))).toMatch(/^invalid option "healthCheck.service"/);
  });
});

describe("balancerPool: connections per address, the pick, whether to probe the stream limit", () => {
  const insecure = credentials.createInsecure();
  test("pickFirst(): one connection, no probe (one connection: its limit decides nothing)", () => {
    expect(balancerPool(pickFirst(), insecure, {})).toEqual({
      mode: "pickFirst",
      min: 1,
      max: 1,
      idleMs: DEFAULT_POOL_IDLE_MS,
      pick: "roundRobin",
      probeStreamLimit: false,
    });
  });

  test("roundRobin() and pool(n) probe plain-text connections made straight to the server", () => {
    expect(balancerPool(roundRobin(), insecure, {})).toMatchObject({
      mode: "roundRobin",
      min: 1,
      max: 1,
      probeStreamLimit: true,
    });
    expect(balancerPool(pool(3), insecure, {})).toMatchObject({ min: 3, max: 3, probeStreamLimit: true });
    expect(balancerPool(pool({ min: 2, max: 5, idleMs: 123 }), insecure, {})).toMatchObject({
      min: 2,
      max: 5,
      idleMs: 123,
    });
  });

  test("no probe with TLS, a stream limit given, or a proxy grpc-js would use", () => {
    expect(balancerPool(pool(2), credentials.createSsl(), {}).probeStreamLimit).toBe(false);
    expect(balancerPool(pool(2, { streamsPerConnection: 10 }), insecure, {})).toMatchObject({
      streamsPerConnection: 10,
      probeStreamLimit: false,
    });
    withEnvironment({ grpc_proxy: "http://127.0.0.1:3128" }, () => {
      expect(balancerPool(pool(2), insecure, {}).probeStreamLimit).toBe(false);
      expect(balancerPool(pool(2), insecure, { "grpc.enable_http_proxy": 0 }).probeStreamLimit).toBe(true);
    });
  });
});
