import { Channel, type ChannelCredentials, type ChannelOptions, credentials as grpcCredentials } from "@grpc/grpc-js";
import { ChannelPool } from "./channel-pool.js";
import { DEFAULT_CHANNEL_OPTIONS, DEFAULT_KEEPALIVE } from "./defaults.js";
import { checkDuration } from "./duration.js";
import { InvalidOptionError } from "./errors.js";
import { pickFirst, resolveStrategy, type Strategy } from "./strategy.js";
import { validateTarget } from "./target.js";

/** Options of {@link createChannel}, shared by every client factory. */
export interface ChannelSettings {
  /**
   * Transport security: grpc-js `ChannelCredentials`, e.g.
   * `credentials.createSsl(ca, key, cert)` for TLS or mutual TLS.
   * @default credentials.createInsecure()
   */
  credentials?: ChannelCredentials;
  /**
   * grpc-js channel options, merged over the SDK's defaults and applied to every
   * channel of the pool. A `grpc.service_config` without a load-balancing
   * config gets the strategy's; one with its own overrides the strategy's.
   * @default {}
   */
  channelOptions?: ChannelOptions;
  /**
   * Ping each connection while calls are open, and drop it when a ping is not
   * answered in time: a hung server (stopped process, dead network path) is
   * then left within `timeMs + timeoutMs` instead of stalling calls until
   * their deadlines. `true` means `{ timeMs: 1000, timeoutMs: 1000 }`.
   *
   * Off by default because servers limit how often clients may ping: grpc-go
   * and gRPC C++ allow one ping per 5 minutes unless configured otherwise, and
   * answer more with GOAWAY "too_many_pings" (grpc-js then doubles its
   * interval). Enable it only against servers that permit it; grpc-js servers,
   * including `startServer`, do.
   * @default false
   */
  keepalive?: boolean | KeepaliveSettings;
}

/** Client keepalive pings; see {@link ChannelSettings.keepalive}. */
export interface KeepaliveSettings {
  /**
   * Time between pings, ms.
   * @default 1000
   */
  timeMs?: number;
  /**
   * Time to wait for a ping's answer before dropping the connection, ms.
   * @default 1000
   */
  timeoutMs?: number;
}

/**
 * Opens the channel(s) a strategy needs and returns them as one
 * {@link ChannelPool}: one channel for `pickFirst()` and `roundRobin()`,
 * `size` channels with connections of their own for `pool(size)`.
 * Channels connect lazily, on the first call.
 *
 * @param target a grpc-js target, checked now (see the README's target forms).
 * @param strategy how calls spread over servers. @default pickFirst()
 */
export function createChannel(
  target: string,
  strategy: Strategy = pickFirst(),
  settings: ChannelSettings = {},
): ChannelPool {
  validateTarget(target);
  const resolved = resolveStrategy({ strategy });
  const credentials = settings.credentials ?? grpcCredentials.createInsecure();
  const options = memberOptions(resolved, {
    ...keepaliveOptions(settings.keepalive),
    ...checkChannelOptions(settings.channelOptions),
  });
  const size = resolved.kind === "pool" ? resolved.size : 1;
  const channels = Array.from({ length: size }, () => new Channel(target, credentials, options));
  return new ChannelPool(target, channels, resolved.kind === "pool" ? resolved.pick : undefined);
}

function keepaliveOptions(keepalive: unknown): ChannelOptions {
  if (keepalive === undefined || keepalive === false) return {};
  if (keepalive !== true && (typeof keepalive !== "object" || keepalive === null)) {
    throw new InvalidOptionError("keepalive", keepalive, "expected true, false or { timeMs, timeoutMs }");
  }
  const settings = keepalive === true ? {} : (keepalive as KeepaliveSettings);
  return {
    "grpc.keepalive_time_ms": checkDuration("keepalive.timeMs", settings.timeMs ?? DEFAULT_KEEPALIVE.timeMs, 1),
    "grpc.keepalive_timeout_ms": checkDuration(
      "keepalive.timeoutMs",
      settings.timeoutMs ?? DEFAULT_KEEPALIVE.timeoutMs,
      1,
    ),
  };
}

function checkChannelOptions(value: unknown): ChannelOptions {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidOptionError("channelOptions", value, "expected an object of grpc-js channel options");
  }
  return value as ChannelOptions;
}

function memberOptions(strategy: Strategy, user: ChannelOptions): ChannelOptions {
  const policy = strategy.kind === "pickFirst" ? "pick_first" : "round_robin";
  return {
    ...DEFAULT_CHANNEL_OPTIONS,
    ...user,
    "grpc.service_config": withLoadBalancing(user["grpc.service_config"], policy),
    // grpc-js shares connections between channels with equal options (a global
    // subchannel pool): without a pool of its own per member, pool(10) would
    // open one connection, not ten.
    ...(strategy.kind === "pool" ? { "grpc.use_local_subchannel_pool": 1 } : {}),
  };
}

function withLoadBalancing(serviceConfig: unknown, policy: string): string {
  let config: Record<string, unknown> = {};
  if (serviceConfig !== undefined) {
    try {
      config = JSON.parse(String(serviceConfig)) as Record<string, unknown>;
    } catch {
      throw new InvalidOptionError(
        'channelOptions["grpc.service_config"]',
        serviceConfig,
        "expected a JSON service config",
      );
    }
  }
  if ("loadBalancingConfig" in config || "loadBalancingPolicy" in config) return JSON.stringify(config);
  return JSON.stringify({ ...config, loadBalancingConfig: [{ [policy]: {} }] });
}
