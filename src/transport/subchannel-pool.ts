import { type ChannelOptions, experimental, connectivityState as State } from "@grpc/grpc-js";
import { Http2Subchannel, type SubchannelContext } from "./http2-subchannel.js";

type SubchannelAddress = experimental.SubchannelAddress;

/**
 * @internal
 * A channel's subchannels, one per address and options, as grpc-js's local
 * subchannel pool keeps them: a policy asking again for the same address
 * and options (pick_first on each re-resolution) gets the same subchannel,
 * and with it the connection it has. Options under grpc-js's
 * `SUBCHANNEL_ARGS_EXCLUDE_KEY_PREFIX` do not count (the balancer's board
 * travels there). A subchannel whose last reference is gone leaves the pool.
 */
export class SubchannelPool {
  private readonly subchannels = new Map<string, Http2Subchannel>();
  /** Who waits for a connection to an address to be ready (the stream-limit probe). */
  private readonly waiting = new Map<string, Set<(limit: number) => void>>();

  constructor(private readonly context: SubchannelContext) {}

  get(address: SubchannelAddress, options: ChannelOptions): Http2Subchannel {
    const own: ChannelOptions = {};
    for (const key of Object.keys(options).sort()) {
      if (!key.startsWith(experimental.SUBCHANNEL_ARGS_EXCLUDE_KEY_PREFIX)) own[key] = options[key];
    }
    const addressString = experimental.subchannelAddressToString(address);
    const key = `${addressString}\n${JSON.stringify(own)}`;
    let subchannel = this.subchannels.get(key);
    if (!subchannel) {
      const made = new Http2Subchannel(address, own, this.context, (s) => {
        if (this.subchannels.get(key) === s) this.subchannels.delete(key);
      });
      made.addConnectivityStateListener((_s, _previous, next) => {
        if (next === State.READY) this.ready(addressString, made);
      });
      this.subchannels.set(key, made);
      subchannel = made;
    }
    return subchannel;
  }

  /**
   * The stream limit the server at `address` advertised in its SETTINGS, read
   * from this channel's own connection to it: at once if one is ready, else
   * when one becomes ready; undefined after `timeoutMs`. No connection of its
   * own (what the grpc-js transport's probe needs).
   */
  streamLimit(address: SubchannelAddress, timeoutMs: number): Promise<number | undefined> {
    const addressString = experimental.subchannelAddressToString(address);
    for (const subchannel of this.subchannels.values()) {
      const transport = subchannel.getAddress() === addressString ? subchannel.readyTransport : undefined;
      if (transport) return Promise.resolve(transport.streamLimit);
    }
    return new Promise((resolve) => {
      const waiters = this.waiting.get(addressString) ?? new Set();
      this.waiting.set(addressString, waiters);
      const done = (limit: number | undefined) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.waiting.get(addressString) === waiters) this.waiting.delete(addressString);
        resolve(limit);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      timer.unref();
      waiters.add(done);
    });
  }

  private ready(address: string, subchannel: Http2Subchannel): void {
    const limit = subchannel.readyTransport?.streamLimit;
    const waiters = this.waiting.get(address);
    if (limit === undefined || !waiters) return;
    for (const done of [...waiters]) done(limit);
  }
}
