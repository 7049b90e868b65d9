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
 * detection) knows its own wrappers only, and its ejections reach the picks
 * (see {@link OwnedSubchannel.isHealthy}).
 */
export class OwnedSubchannel extends experimental.BaseSubchannelWrapper {
  constructor(
    /** The subchannel the channel (or a policy above, such as outlier detection) made: what a pick hands back. */
    readonly made: experimental.SubchannelInterface,
    /** Told when a policy above ejects it or lets it back (outlier detection). */
    ejectionChanged: () => void,
  ) {
    super(made);
    made.addHealthStateWatcher(ejectionChanged);
  }

  /** Whether a policy above (outlier detection) ejected it. */
  get ejected(): boolean {
    return !this.made.isHealthy();
  }

  /**
   * To its leaf (pick_first), always healthy: an ejection by a policy above
   * would make pick_first report the connection failed, and with every other
   * backend down the client would fail calls a live one could serve. The
   * picks pass over an ejected connection instead, while another suits
   * (failing open, as failure accrual does).
   */
  override isHealthy(): boolean {
    return true;
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
