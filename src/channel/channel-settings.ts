import { ChannelCredentials, type ChannelOptions, credentials as grpcCredentials } from "@grpc/grpc-js";
import type { BalancerSettings } from "../balancer/balancer-config.js";
import { balancerPool, resolveFailureAccrual, resolveHealthCheck } from "../balancer/balancer-settings.js";
import { checkDuration, checkInteger, checkKnownKeys, checkObject } from "../check.js";
import type { ChannelSettings, OutlierDetectionSettings } from "../client-options.js";
import {
  DEFAULT_CHANNEL_OPTIONS,
  DEFAULT_KEEPALIVE,
  DEFAULT_MAX_METADATA_SIZE,
  DEFAULT_OUTLIER_DETECTION,
  DEFAULT_TELEMETRY,
  MAX_METADATA_SIZE_LIMIT,
  MIN_CLIENT_MAX_CONNECTION_AGE_MS,
} from "../defaults.js";
import { InvalidOptionError } from "../errors.js";
import type { Strategy } from "../strategy.js";
import { validateTarget } from "../target.js";
import { resolveTransport, type TransportName } from "../transport/transport-option.js";

/** @internal Everything a channel is made of, checked and with every default applied. */
export interface ResolvedChannelSettings {
  target: string;
  strategy: Strategy;
  credentials: ChannelCredentials;
  /** grpc-js channel options, without the load-balancing config. */
  channelOptions: ChannelOptions;
  /** The user's service config without a load-balancing config (parsed), or undefined. */
  serviceConfig: Record<string, unknown> | undefined;
  balancer: BalancerSettings;
  /** grpc-js `outlier_detection` config (without its child policy), or undefined. */
  outlierDetection: Record<string, unknown> | undefined;
  /** Whether calls and the pool report to OpenTelemetry. */
  telemetry: boolean;
  /** The most metadata a call may send, bytes (see {@link ChannelSettings.maxMetadataSize}). */
  maxMetadataSize: number;
  /** What carries the calls (see {@link ChannelSettings.transport}). */
  transport: TransportName;
}

/** @internal Checks the channel part of the options; `createBalancedChannel` and every client use it. */
export function resolveChannelSettings(
  target: unknown,
  strategy: Strategy,
  settings: ChannelSettings,
): ResolvedChannelSettings {
  const channelOptions = (checkObject(
    "channelOptions",
    settings.channelOptions,
    "expected an object of grpc-js channel options",
  ) ?? {}) as ChannelOptions;
  const { "grpc.service_config": serviceConfig, ...userOptions } = channelOptions;
  const maxAge = settings.maxConnectionAge;
  const credentials = resolveCredentials(settings.credentials);
  return {
    target: validateTarget(target),
    strategy,
    credentials,
    channelOptions: { ...DEFAULT_CHANNEL_OPTIONS, ...userOptions, ...resolveKeepalive(settings.keepalive) },
    serviceConfig: parseServiceConfig(serviceConfig),
    balancer: {
      ...balancerPool(strategy, credentials, channelOptions),
      maxConnectionAgeMs:
        maxAge === undefined ? undefined : checkDuration("maxConnectionAge", maxAge, MIN_CLIENT_MAX_CONNECTION_AGE_MS),
      maxConnectionAgeGraceMs: resolveGrace(settings.maxConnectionAgeGrace, maxAge),
      failureAccrual: resolveFailureAccrual(settings.failureAccrual),
      healthCheck: resolveHealthCheck(settings.healthCheck),
    },
    outlierDetection: resolveOutlierDetection(settings.outlierDetection),
    telemetry: resolveTelemetry(settings.telemetry),
    maxMetadataSize: checkInteger(
      "maxMetadataSize",
      settings.maxMetadataSize ?? DEFAULT_MAX_METADATA_SIZE,
      1,
      MAX_METADATA_SIZE_LIMIT,
    ),
    transport: resolveTransport(settings.transport),
  };
}

function resolveTelemetry(value: unknown): boolean {
  if (value === undefined) return DEFAULT_TELEMETRY;
  if (typeof value !== "boolean") throw new InvalidOptionError("telemetry", value, "expected true or false");
  return value;
}

/** A recycled connection's grace, ms: only with a max connection age. */
function resolveGrace(grace: unknown, maxAge: unknown): number | undefined {
  if (grace === undefined) return undefined;
  if (maxAge === undefined) {
    throw new InvalidOptionError("maxConnectionAgeGrace", grace, "expected it only with maxConnectionAge");
  }
  return checkDuration("maxConnectionAgeGrace", grace);
}

function resolveKeepalive(keepalive: unknown): ChannelOptions {
  if (keepalive === undefined || keepalive === false) return {};
  const settings =
    keepalive === true ? {} : checkObject("keepalive", keepalive, "expected true, false or { timeMs, timeoutMs }");
  if (settings) checkKnownKeys("keepalive", settings, ["timeMs", "timeoutMs"], "keepalive.");
  return {
    "grpc.keepalive_time_ms": checkDuration("keepalive.timeMs", settings?.timeMs ?? DEFAULT_KEEPALIVE.timeMs, 1),
    "grpc.keepalive_timeout_ms": checkDuration(
      "keepalive.timeoutMs",
      settings?.timeoutMs ?? DEFAULT_KEEPALIVE.timeoutMs,
      1,
    ),
  };
}

function parseServiceConfig(serviceConfig: unknown): Record<string, unknown> | undefined {
  if (serviceConfig === undefined) return undefined;
  const option = 'channelOptions["grpc.service_config"]';
  let config: unknown;
  try {
    config = JSON.parse(String(serviceConfig));
  } catch {
    throw new InvalidOptionError(option, serviceConfig, "expected a JSON service config");
  }
  const parsed = checkObject(option, config, "expected a JSON object") ?? {};
  if ("loadBalancingConfig" in parsed || "loadBalancingPolicy" in parsed) {
    throw new InvalidOptionError(
      option,
      serviceConfig,
      "expected no load-balancing config: the strategy is the policy (use strategy, maxConnectionAge, outlierDetection)",
    );
  }
  return parsed;
}

function resolveOutlierDetection(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === false) return undefined;
  const given = value === true ? {} : checkObject("outlierDetection", value, "expected true, false or settings");
  if (given) checkKnownKeys("outlierDetection", given, Object.keys(DEFAULT_OUTLIER_DETECTION), "outlierDetection.");
  const setting = <K extends keyof OutlierDetectionSettings>(key: K): number =>
    (given?.[key] ?? DEFAULT_OUTLIER_DETECTION[key]) as number;
  // grpc-js reads these durations as { seconds, nanos } objects.
  const ms = (key: keyof OutlierDetectionSettings, min = 1) => {
    const value = checkDuration(`outlierDetection.${key}`, setting(key), min);
    return { seconds: Math.floor(value / 1000), nanos: (value % 1000) * 1_000_000 };
  };
  const percent = (key: keyof OutlierDetectionSettings) =>
    checkInteger(`outlierDetection.${key}`, setting(key), 0, 100);
  return {
    interval: ms("intervalMs"),
    base_ejection_time: ms("baseEjectionTimeMs"),
    max_ejection_time: ms("maxEjectionTimeMs"),
    max_ejection_percent: percent("maxEjectionPercent"),
    failure_percentage_ejection: {
      threshold: percent("failurePercentageThreshold"),
      enforcement_percentage: 100,
      minimum_hosts: checkInteger("outlierDetection.minimumHosts", setting("minimumHosts"), 1, 1_000_000),
      request_volume: checkInteger("outlierDetection.requestVolume", setting("requestVolume"), 1, 1_000_000),
    },
  };
}

/** grpc-js channel credentials, made by its `credentials.*` functions (a plain object would fail inside grpc-js). */
function resolveCredentials(value: unknown): ChannelCredentials {
  if (value === undefined) return grpcCredentials.createInsecure();
  if (value instanceof ChannelCredentials) return value;
  throw new InvalidOptionError(
    "credentials",
    value,
    "expected ChannelCredentials from credentials.createInsecure() or credentials.createSsl(…) (of the one @grpc/grpc-js in the project)",
  );
}
