import { Channel, experimental } from "@grpc/grpc-js";
import { BALANCER_NAME } from "../balancer/balancer.js";
import { newPoolId } from "../balancer/registry.js";
import {
  type ChannelSettings,
  type ResolvedChannelSettings,
  resolveChannelSettings,
  resolveStrategy,
} from "../client-options.js";
import { pickFirst, type Strategy } from "../strategy.js";
import { ChannelPool } from "./balanced-channel.js";

/**
 * Opens a channel that spreads calls the strategy's way and returns it as a
 * {@link ChannelPool}: one grpc-js channel whose load-balancing policy holds
 * every connection of the strategy (`pool(n)`: n per resolved address).
 * Connections open on the first call.
 *
 * @param target a grpc-js target, checked now (see the README's target forms).
 * @param strategy how calls spread over servers. @default pickFirst()
 */
export function createChannel(
  target: string,
  strategy: Strategy = pickFirst(),
  settings: ChannelSettings = {},
): ChannelPool {
  return openChannel(resolveChannelSettings(target, resolveStrategy({ strategy }), settings));
}

/** @internal A channel for settings already checked. */
export function openChannel(settings: ResolvedChannelSettings): ChannelPool {
  const poolId = newPoolId();
  const balancer = { [BALANCER_NAME]: { ...settings.balancer, poolId } };
  const policy = settings.outlierDetection
    ? { outlier_detection: { ...settings.outlierDetection, child_policy: [balancer] } }
    : balancer;
  // grpc-js would fall back to pick_first, silently, on a config it cannot parse.
  experimental.parseLoadBalancingConfig(policy);
  const serviceConfig = JSON.stringify({ ...settings.serviceConfig, loadBalancingConfig: [policy] });
  const channel = new Channel(settings.target, settings.credentials, {
    ...settings.channelOptions,
    "grpc.service_config": serviceConfig,
  });
  return new ChannelPool(settings.target, channel, poolId);
}
