import { experimental, connectivityState as State } from "@grpc/grpc-js";

/**
 * @internal
 * A connection's subchannel, as its grpc-js leaf policy sees it: a request to
 * connect while it waits out its reconnect backoff (TRANSIENT_FAILURE) is not
 * passed on. grpc-js would note it and connect when the backoff ends, even if
 * the subchannel was released in between (a closed client): a connection made
 * after `close()`. Not passing it changes nothing else: when the backoff
 * ends, the subchannel goes IDLE, and pick_first asks again (then passed on).
 * Picks hand grpc-js the subchannel unwrapped: a policy above (outlier
 * detection) knows its own wrappers only.
 */
export class OwnedSubchannel extends experimental.BaseSubchannelWrapper {
  constructor(
    /** The subchannel the channel (or a policy above, such as outlier detection) made: what a pick hands back. */
    readonly made: experimental.SubchannelInterface,
  ) {
    super(made);
  }

  /** What a pick of `subchannel` hands to grpc-js: the subchannel as its maker made it, unwrapped. */
  static unwrap(subchannel: experimental.SubchannelInterface): experimental.SubchannelInterface {
    return subchannel instanceof OwnedSubchannel ? subchannel.made : subchannel;
  }

  override startConnecting(): void {
    if (this.getConnectivityState() === State.TRANSIENT_FAILURE) return;
    super.startConnecting();
  }
}
