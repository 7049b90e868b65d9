import { connectivityState, experimental, Metadata } from "@grpc/grpc-js";
// Importing the SDK registers its load-balancing policy with grpc-js.
import "balanced-grpc";

/** The SDK's policy as grpc-js's service config names it. */
const POLICY = "balanced_grpc";

/** A subchannel that is READY at once and never changes: the pick's cost alone, without sockets. */
function readySubchannel(address: string): experimental.SubchannelInterface {
  const self: Record<string, unknown> = {
    getConnectivityState: () => connectivityState.READY,
    getAddress: () => address,
    isHealthy: () => true,
    realSubchannelEquals: (other: unknown) => other === self,
    getRealSubchannel: () => self,
  };
  // Every other method of the interface (listeners, refs, channelz) does nothing here.
  return new Proxy(self, { get: (target, name) => target[name as string] ?? (() => undefined) }) as never;
}

/**
 * Nanoseconds per pick of a `pool(size)` over one address, with `pick`,
 * through grpc-js's public load-balancer API: the SDK's picker as grpc-js
 * calls it on every call (choose a connection, count the call on it).
 */
export function pickCost(size: number, pick: "p2c" | "roundRobin", picks = 2_000_000): number {
  let picker: experimental.Picker | undefined;
  const helper: experimental.ChannelControlHelper = {
    createSubchannel: (address) => readySubchannel(experimental.subchannelAddressToString(address)),
    updateState: (state, latest) => {
      if (state === connectivityState.READY) picker = latest;
    },
    requestReresolution: () => {},
    addChannelzChild: () => {},
    removeChannelzChild: () => {},
  };
  const balancer = new experimental.ChildLoadBalancerHandler(helper);
  const config = experimental.parseLoadBalancingConfig({ [POLICY]: { mode: "pool", size, pick, poolId: 0 } });
  balancer.updateAddressList(
    experimental.statusOrFromValue([{ addresses: [{ host: "127.0.0.1", port: 1 }] }]),
    config,
    {},
    "",
  );
  if (!picker) throw new Error("the policy did not become READY");
  const args = { metadata: new Metadata(), extraPickInfo: {} };
  let sink = 0;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const result = picker!.pick(args);
      // A call's life on the picked connection: started, then ended.
      result.onCallStarted?.();
      result.onCallEnded?.(0, "", args.metadata);
      if (result.subchannel) sink++;
    }
  };
  run(100_000); // let the JIT compile it first
  const started = process.hrtime.bigint();
  run(picks);
  const ns = Number(process.hrtime.bigint() - started) / picks;
  balancer.destroy();
  if (sink < 0) console.log(sink); // keeps the loop from being optimised away
  return ns;
}
