import { experimental } from "@grpc/grpc-js";
import type { ConnectionBoard } from "../balancer/connection-board.js";
import type { ResolvedChannelSettings } from "../channel/channel-settings.js";
import { STREAM_LIMIT_PROBE_TIMEOUT_MS } from "../defaults.js";
import { Http2Channel } from "./http2-channel.js";

/** What the transport's requests call themselves (gRPC's User-Agent grammar: grpc-language-variant/version). */
const USER_AGENT = "grpc-node-balanced-grpc-http2/0.1.0";

/**
 * @internal
 * The HTTP/2 transport's channel for a client's settings: the same policy
 * config a grpc-js channel gets in its service config (`policy`), the same
 * options, the board carried to the balancer the same way. The balancer
 * reads each server's stream limit from the channel's own connections
 * instead of probing with one of its own.
 */
export function openHttp2Channel(
  settings: ResolvedChannelSettings,
  policy: Parameters<typeof experimental.parseLoadBalancingConfig>[0],
  board: ConnectionBoard,
): Http2Channel {
  const loadBalancing = experimental.parseLoadBalancingConfig(policy);
  const channel = new Http2Channel({
    target: settings.target,
    credentials: settings.credentials,
    options: { ...settings.channelOptions, ...board.asChannelOption() },
    loadBalancing,
    userAgent: USER_AGENT,
  });
  board.streamLimitProbe = (address) => channel.streamLimit(address, STREAM_LIMIT_PROBE_TIMEOUT_MS);
  return channel;
}

/**
 * @internal
 * The balancer's settings on this transport: the stream limit is read from
 * every connection, for every strategy and TLS too (it costs no connection),
 * unless the user set `streamsPerConnection`.
 */
export function http2BalancerSettings(settings: ResolvedChannelSettings): ResolvedChannelSettings["balancer"] {
  const { balancer } = settings;
  return { ...balancer, probeStreamLimit: balancer.streamsPerConnection === undefined };
}
