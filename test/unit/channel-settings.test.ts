import { credentials } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { resolveChannelSettings } from "../../src/channel/channel-settings.js";
import type { ChannelSettings } from "../../src/client-options.js";
import {
  DEFAULT_CHANNEL_OPTIONS,
  DEFAULT_KEEPALIVE,
  DEFAULT_MAX_METADATA_SIZE,
  DEFAULT_TELEMETRY,
  DEFAULT_TRANSPORT,
} from "../../src/defaults.js";
import { InvalidOptionError } from "../../src/errors.js";
import { pickFirst, pool } from "../../src/strategy.js";

// The channel's part of the options: each one checked (the error names the
// option, the value and what was expected) and defaulted, in one place.

const resolve = (settings: Record<string, unknown>, target: unknown = "svc:50051") =>
  resolveChannelSettings(target, pickFirst(), settings as ChannelSettings);

/** The message of the InvalidOptionError `settings` makes (after the package's prefix), or a failure. */
function refusal(settings: Record<string, unknown>): string {
  try {
    resolve(settings);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    const { message } = error as Error;
    expect(message.startsWith("balanced-grpc: ")).toBe(true);
    return message.slice("balanced-grpc: ".length);
  }
  throw new Error("accepted");
}

describe("resolveChannelSettings", () => {
  test("defaults: insecure, grpc-js's options as the SDK sets them, telemetry on, 64 KiB of metadata, the default transport", () => {
    const settings = resolve({});
    expect(settings.target).toBe("svc:50051");
    expect(settings.credentials._equals(credentials.createInsecure())).toBe(true);
    expect(settings.channelOptions).toEqual(DEFAULT_CHANNEL_OPTIONS);
    expect(settings.serviceConfig).toBeUndefined();
    expect(settings.outlierDetection).toBeUndefined();
    expect(settings.telemetry).toBe(DEFAULT_TELEMETRY);
    expect(settings.maxMetadataSize).toBe(DEFAULT_MAX_METADATA_SIZE);
    expect(settings.transport).toBe(DEFAULT_TRANSPORT);
    expect(settings.balancer.maxConnectionAgeMs).toBeUndefined();
    expect(settings.balancer.maxConnectionAgeGraceMs).toBeUndefined();
  });

  test("channelOptions: the user's win over the defaults; not an object is refused", () => {
    const settings = resolve({ channelOptions: { "grpc.max_receive_message_length": 7, "grpc.keepalive_time_ms": 9 } });
    expect(settings.channelOptions["grpc.max_receive_message_length"]).toBe(7);
    expect(settings.channelOptions["grpc.keepalive_time_ms"]).toBe(9);
    expect(refusal({ channelOptions: 3 })).toBe(
      'invalid option "channelOptions": expected an object of grpc-js channel options, got 3',
    );
  });

  test("telemetry: true or false only", () => {
    expect(resolve({ telemetry: false }).telemetry).toBe(false);
    expect(resolve({ telemetry: true }).telemetry).toBe(true);
    expect(refusal({ telemetry: "yes" })).toBe(`invalid option "telemetry": expected true or false, got 'yes'`);
  });

  test("maxConnectionAge: at least a second; its grace only beside it", () => {
    const settings = resolve({ maxConnectionAge: 1_000, maxConnectionAgeGrace: 250 });
    expect(settings.balancer.maxConnectionAgeMs).toBe(1_000);
    expect(settings.balancer.maxConnectionAgeGraceMs).toBe(250);
    expect(resolve({ maxConnectionAge: 5_000 }).balancer.maxConnectionAgeGraceMs).toBeUndefined();
    expect(refusal({ maxConnectionAge: 999 })).toMatch(/^invalid option "maxConnectionAge": .*got 999$/);
    expect(refusal({ maxConnectionAgeGrace: 100 })).toBe(
      'invalid option "maxConnectionAgeGrace": expected it only with maxConnectionAge, got 100',
    );
    expect(refusal({ maxConnectionAge: 1_000, maxConnectionAgeGrace: -1 })).toMatch(
      /^invalid option "maxConnectionAgeGrace": .*got -1$/,
    );
  });

  test("keepalive: off adds nothing; true is the defaults; each field checked, unknown ones refused", () => {
    const keys = ["grpc.keepalive_time_ms", "grpc.keepalive_timeout_ms"] as const;
    const off = resolve({ keepalive: false }).channelOptions;
    expect(off).toEqual(resolve({}).channelOptions);
    expect(resolve({ keepalive: true }).channelOptions).toMatchObject({
      [keys[0]]: DEFAULT_KEEPALIVE.timeMs,
      [keys[1]]: DEFAULT_KEEPALIVE.timeoutMs,
    });
    expect(resolve({ keepalive: { timeMs: 500 } }).channelOptions).toMatchObject({
      [keys[0]]: 500,
      [keys[1]]: DEFAULT_KEEPALIVE.timeoutMs,
    });
    expect(resolve({ keepalive: { timeoutMs: 700 } }).channelOptions).toMatchObject({
      [keys[0]]: DEFAULT_KEEPALIVE.timeMs,
      [keys[1]]: 700,
    });
    expect(refusal({ keepalive: 5 })).toBe(
      'invalid option "keepalive": expected true, false or { timeMs, timeoutMs }, got 5',
    );
    expect(refusal({ keepalive: { timeMs: 0 } })).toMatch(/^invalid option "keepalive.timeMs": .*got 0$/);
    expect(refusal({ keepalive: { timeoutMs: 0 } })).toMatch(/^invalid option "keepalive.timeoutMs": .*got 0$/);
    expect(refusal({ keepalive: { interval: 1 } })).toMatch(/^invalid option "keepalive.interval"/);
  });

  test("a service config: parsed, without a load-balancing config; bad JSON and a policy refused", () => {
    const config = { methodConfig: [{ name: [{ service: "x.Y" }], timeout: "1s" }] };
    const settings = resolve({ channelOptions: { "grpc.service_config": JSON.stringify(config), "grpc.x": 1 } });
    expect(settings.serviceConfig).toEqual(config);
    expect(settings.channelOptions).not.toHaveProperty("grpc.service_config");
    expect(settings.channelOptions["grpc.x"]).toBe(1);
    const option = 'invalid option "channelOptions["grpc.service_config"]"';
    expect(refusal({ channelOptions: { "grpc.service_config": "{" } })).toBe(
      `${option}: expected a JSON service config, got '{'`,
    );
    expect(refusal({ channelOptions: { "grpc.service_config": "[1]" } })).toMatch(
      /^invalid option "channelOptions\["grpc.service_config"\]": expected a JSON object/,
    );
    for (const key of ["loadBalancingConfig", "loadBalancingPolicy"]) {
      expect(refusal({ channelOptions: { "grpc.service_config": JSON.stringify({ [key]: [] }) } })).toMatch(
        /expected no load-balancing config: the strategy is the policy \(use strategy, maxConnectionAge, outlierDetection\)/,
      );
    }
  });

  test("outlierDetection: grpc-js's config, durations as { seconds, nanos }; each field checked", () => {
    expect(resolve({ outlierDetection: false }).outlierDetection).toBeUndefined();
    expect(resolve({ outlierDetection: true }).outlierDetection).toEqual({
      interval: { seconds: 1, nanos: 0 },
      base_ejection_time: { seconds: 5, nanos: 0 },
      max_ejection_time: { seconds: 60, nanos: 0 },
      max_ejection_percent: 50,
      failure_percentage_ejection: {
        threshold: 30,
        enforcement_percentage: 100,
        minimum_hosts: 2,
        request_volume: 20,
      },
    });
    const custom = resolve({
      outlierDetection: { intervalMs: 1_250, maxEjectionPercent: 100, minimumHosts: 1, requestVolume: 1_000_000 },
    }).outlierDetection as Record<string, unknown>;
    expect(custom.interval).toEqual({ seconds: 1, nanos: 250_000_000 });
    expect(custom.max_ejection_percent).toBe(100);
    expect(custom.failure_percentage_ejection).toMatchObject({ minimum_hosts: 1, request_volume: 1_000_000 });
    expect(refusal({ outlierDetection: 1 })).toBe(
      'invalid option "outlierDetection": expected true, false or settings, got 1',
    );
    expect(refusal({ outlierDetection: { intervalMs: 0 } })).toMatch(/^invalid option "outlierDetection.intervalMs"/);
    expect(refusal({ outlierDetection: { maxEjectionPercent: 101 } })).toMatch(
      /^invalid option "outlierDetection.maxEjectionPercent"/,
    );
    expect(refusal({ outlierDetection: { failurePercentageThreshold: -1 } })).toMatch(
      /^invalid option "outlierDetection.failurePercentageThreshold"/,
    );
    expect(refusal({ outlierDetection: { minimumHosts: 0 } })).toMatch(
      /^invalid option "outlierDetection.minimumHosts"/,
    );
    expect(refusal({ outlierDetection: { requestVolume: 1_000_001 } })).toMatch(
      /^invalid option "outlierDetection.requestVolume"/,
    );
    expect(refusal({ outlierDetection: { successRate: 1 } })).toMatch(/^invalid option "outlierDetection.successRate"/);
  });

  test("credentials: grpc-js's own only, the message says where they come from", () => {
    const ssl = credentials.createSsl();
    expect(resolve({ credentials: ssl }).credentials).toBe(ssl);
    expect(refusal({ credentials: { secure: true } })).toMatch(
      /^invalid option "credentials": expected ChannelCredentials from credentials.createInsecure\(\) or credentials.createSsl\(…\) \(of the one @grpc\/grpc-js in the project\)/,
    );
  });

  test("maxMetadataSize: a whole number from 1", () => {
    expect(resolve({ maxMetadataSize: 1 }).maxMetadataSize).toBe(1);
    expect(refusal({ maxMetadataSize: 0 })).toMatch(/^invalid option "maxMetadataSize": .*got 0$/);
    expect(refusal({ maxMetadataSize: 1.5 })).toMatch(/^invalid option "maxMetadataSize": .*got 1.5$/);
  });

  test("the balancer's part follows the strategy", () => {
    const settings = resolveChannelSettings("svc:1", pool(3), {} as ChannelSettings);
    expect(settings.balancer).toMatchObject({ min: 3, max: 3 });
  });
});
