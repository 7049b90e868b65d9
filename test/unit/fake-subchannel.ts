import { experimental, Metadata, connectivityState as State } from "@grpc/grpc-js";
import { FakeCall } from "./fake-call.js";

type Listener = (subchannel: experimental.SubchannelInterface, previous: State, next: State, keepalive: number) => void;

/** A subchannel whose state the test sets; counts its refs, as grpc-js's do, to tell when it is let go. */
export class FakeSubchannel {
  state: State = State.IDLE;
  refs = 0;
  connects = 0;
  /** Calls made on its own channel (`getChannel()`): the health Watches, which the test answers. */
  readonly calls: FakeCall[] = [];
  private readonly listeners = new Set<Listener>();
  readonly self: experimental.SubchannelInterface;

  constructor(
    readonly address: string,
    readonly args: Record<string, unknown>,
  ) {
    const methods: Record<string, unknown> = {
      getConnectivityState: () => this.state,
      addConnectivityStateListener: (l: Listener) => this.listeners.add(l),
      removeConnectivityStateListener: (l: Listener) => this.listeners.delete(l),
      startConnecting: () => {
        this.connects++;
        if (this.state === State.IDLE) this.set(State.CONNECTING);
      },
      getAddress: () => address,
      ref: () => void this.refs++,
      unref: () => void this.refs--,
      isHealthy: () => true,
      // As grpc-js's: equal to any wrapper of it (an LB policy may wrap subchannels).
      realSubchannelEquals: (other: experimental.SubchannelInterface) => other.getRealSubchannel() === this.self,
      getRealSubchannel: () => this.self,
      getChannel: () => ({
        createCall: (method: string, deadline: Date | number) => {
          const call = new FakeCall(method, deadline);
          call.peer = address;
          this.calls.push(call);
          return call;
        },
      }),
    };
    // The rest of the interface (health and data watchers, channelz) does nothing here.
    this.self = new Proxy(methods, { get: (t, name) => t[name as string] ?? (() => undefined) }) as never;
  }

  /** Connectivity listeners registered now (the leaf's, and a health watch's). */
  get listening(): number {
    return this.listeners.size;
  }

  /** Moves to `next` and tells the listeners, as a real subchannel does. */
  set(next: State): void {
    const previous = this.state;
    this.state = next;
    for (const listener of [...this.listeners]) listener(this.self, previous, next, 0);
  }
}

/** A channel control helper that records subchannels and the latest state and picker. */
export class FakeHelper implements experimental.ChannelControlHelper {
  readonly subchannels: FakeSubchannel[] = [];
  state: State = State.IDLE;
  picker: experimental.Picker | undefined;
  reresolutions = 0;

  createSubchannel(
    address: experimental.SubchannelAddress,
    args: Record<string, unknown>,
  ): experimental.SubchannelInterface {
    const subchannel = new FakeSubchannel(experimental.subchannelAddressToString(address), args);
    this.subchannels.push(subchannel);
    return subchannel.self;
  }
  updateState(state: State, picker: experimental.Picker): void {
    this.state = state;
    this.picker = picker;
  }
  requestReresolution(): void {
    this.reresolutions++;
  }
  addChannelzChild(): void {}
  removeChannelzChild(): void {}

  /** Picks once (with `metadata`); returns the picked subchannel's fake (or undefined) and the pick's call callbacks. */
  pick(metadata = new Metadata()) {
    const result = this.picker!.pick({ metadata, extraPickInfo: {} });
    const fake = this.subchannels.find((s) => s.self === result.subchannel?.getRealSubchannel());
    return { result, fake };
  }
}

export const endpoints = (...addresses: string[]) =>
  experimental.statusOrFromValue(
    addresses.map((a) => ({ addresses: [{ host: a.split(":")[0]!, port: Number(a.split(":")[1]) }] })),
  );
