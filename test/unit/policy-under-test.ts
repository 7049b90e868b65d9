import { experimental } from "@grpc/grpc-js";
import { registerBalancer } from "../../src/balancer/balancer.js";
import { BALANCER_NAME } from "../../src/balancer/balancer-config.js";
import { ConnectionBoard } from "../../src/balancer/connection-board.js";
import type { Clock } from "../../src/clock.js";
import { endpoints, FakeHelper } from "./fake-subchannel.js";

registerBalancer();

/** The SDK's policy config (as grpc-js parses it from a service config) for `settings`. */
export const policyConfig = (settings: Record<string, unknown>) =>
  experimental.parseLoadBalancingConfig({ [BALANCER_NAME]: settings });

/**
 * The SDK's load-balancing policy, driven as grpc-js drives it (its public
 * load-balancer API) over fake subchannels, reporting to a board the test reads.
 * Its timers run on `clock` (the real one unless given).
 * `update(...addresses)` resolves to those addresses; `resolve(list, config?)`
 * hands it any resolution result (an error, another config).
 */
export function policyUnderTest(settings: Record<string, unknown>, clock?: Clock) {
  const helper = new FakeHelper();
  const handler = new experimental.ChildLoadBalancerHandler(helper);
  const board = new ConnectionBoard(undefined, clock);
  const config = policyConfig(settings);
  const resolve = (list: ReturnType<typeof endpoints>, with_ = config, note = "note") =>
    handler.updateAddressList(list, with_, board.asChannelOption(), note);
  const update = (...addresses: string[]) => resolve(endpoints(...addresses));
  return { helper, handler, board, update, resolve, stats: () => board.stats() };
}
