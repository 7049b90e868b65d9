import { Channel, experimental } from "@grpc/grpc-js";
import { registerBalancer } from "../balancer/balancer.js";
import { BALANCER_NAME } from "../balancer/balancer-config.js";
import { ConnectionBoard } from "../balancer/connection-board.js";
import type { ChannelSettings } from "../client-options.js";
import { resolveStrategy } from "../resolve-strategy.js";
import { pickFirst, type Strategy } from "../strategy.js";
import { clientTelemetry } from "../telemetry/client-telemetry.js";
import { http2BalancerSettings, openHttp2Channel } from "../transport/open-http2-channel.js";
import { BalancedChannel } from "./balanced-channel.js";
import { type ResolvedChannelSettings, resolveChannelSettings } from "./channel-settings.js";

/**
 * Opens a {@link BalancedChannel}: one grpc-js channel whose load-balancing
 * policy holds every connection of the strategy (`pool(n)`: n per resolved
 * address). Connections open on the first call.
 *
 * @param target - a grpc-js target, checked now (see the README's target forms).
 * @param strategy - how calls spread over servers. @default pickFirst()
 */
export function createBalancedChannel(
  target: string,
  strategy: Strategy = pickFirst(),
  settings: ChannelSettings = {},
): BalancedChannel {
  return openChannel(resolveChannelSettings(target, resolveStrategy({ strategy }), settings));
}

/**
 * @internal
 * A channel for settings already checked. Settings go down one way: the
 * strategy as the policy's config (in the service config, as grpc-js wants
 * it), the board the policy reports its connections to as a channel option.
 */
export function openChannel(settings: ResolvedChannelSettings): BalancedChannel {
  registerBalancer();
  const http2 = settings.transport === "http2";
  const balancer = { [BALANCER_NAME]: http2 ? http2BalancerSettings(settings) : settings.balancer };
  const policy = settings.outlierDetection
    ? { outlier_detection: { ...settings.outlierDetection, child_policy: [balancer] } }
    : balancer;
  // grpc-js would fall back to pick_first, silently, on a config it cannot parse.
  experimental.parseLoadBalancingConfig(policy);
  const serviceConfig = JSON.stringify({ ...settings.serviceConfig, loadBalancingConfig: [policy] });
  // The pool's events go up to the telemetry through the board; its gauges read the board.
  const telemetry = clientTelemetry(settings.telemetry, settings.target, () => board.stats());
  const board = new ConnectionBoard(telemetry?.pool);
  // The transport: grpc-js's channel, or the SDK's own under the same policy (docs/transport.md).
  const channel = http2
    ? openHttp2Channel(settings, policy, board)
    : new Channel(settings.target, settings.credentials, {
        ...settings.channelOptions,
        ...board.asChannelOption(),
        "grpc.service_config": serviceConfig,
      });
  return new BalancedChannel(
    settings.target,
    channel,
    board,
    settings.credentials._isSecure(),
    telemetry,
    settings.maxMetadataSize,
  );
}
