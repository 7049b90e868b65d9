import {
  type CallCredentials,
  type Channel,
  type ChannelOptions,
  experimental,
  Metadata,
  connectivityState as State,
  status as Status,
} from "@grpc/grpc-js";
import { MAX_TIMER_MS } from "../check.js";
import { type Connecting, type ConnectSettings, connectSession, MIN_CONNECT_TIMEOUT_MS } from "./connect.js";
import { type CallStarter, Http2Call } from "./http2-call.js";
import { Http2Transport, keepaliveOf } from "./http2-transport.js";

type SubchannelInterface = experimental.SubchannelInterface;
type ConnectivityStateListener = experimental.ConnectivityStateListener;
type SubchannelAddress = experimental.SubchannelAddress;
type SubchannelRef = ReturnType<SubchannelInterface["getChannelzRef"]>;

/** @internal What every subchannel of a channel shares. */
export interface SubchannelContext extends Omit<ConnectSettings, "secureConnector"> {
  /** The channel's call starter settings: request headers and message limits. */
  readonly starter: Omit<CallStarter, "startCall" | "forget">;
  /** Makes the credentials' connector for one subchannel (grpc-js makes one per subchannel too). */
  secureConnector(options: ChannelOptions): experimental.SecureConnector;
}

let lastId = 0;

/**
 * @internal
 * One address of the channel, connected or not: what grpc-js's Subchannel is
 * to its load-balancing policies, with the same states and transitions, so
 * that grpc-js's pick_first (the balancer's leaf) and outlier detection run
 * on it unchanged.
 *
 * - IDLE → CONNECTING on `startConnecting()`; READY once the session has the
 *   server's SETTINGS; TRANSIENT_FAILURE when the attempt fails, then IDLE
 *   (or CONNECTING again if asked meanwhile) when its backoff ends: gRPC's
 *   connection backoff (grpc-js's `BackoffTimeout`: 1 s, ×1.6, ±20%, at most
 *   120 s, or `grpc.initial_reconnect_backoff_ms` / `grpc.max_reconnect_backoff_ms`).
 *   An attempt may take max(20 s, the current backoff) (the spec's
 *   MIN_CONNECT_TIMEOUT; grpc-js has none).
 * - READY → IDLE when the connection goes away (GOAWAY, close, a ping not
 *   answered); a GOAWAY "too_many_pings" doubles its keepalive time, as grpc-js does.
 * - Reference-counted by the policies that hold it; at zero it closes its
 *   connection (gracefully: streams open finish) and leaves the channel's pool.
 */
export class Http2Subchannel implements SubchannelInterface {
  private state: State = State.IDLE;
  private transport: Http2Transport | undefined;
  private connecting: Connecting | undefined;
  private continueConnecting = false;
  private readonly listeners = new Set<ConnectivityStateListener>();
  private readonly backoff: experimental.BackoffTimeout;
  private keepaliveTime: number;
  private refcount = 0;
  private readonly addressString: string;
  private readonly secureConnector: experimental.SecureConnector;
  private readonly ref_: SubchannelRef;
  private ownChannel: SubchannelCalls | undefined;

  constructor(
    private readonly address: SubchannelAddress,
    private readonly options: ChannelOptions,
    private readonly context: SubchannelContext,
    /** Called once its last reference is gone (the pool forgets it). */
    private readonly released: (subchannel: Http2Subchannel) => void,
  ) {
    this.addressString = experimental.subchannelAddressToString(address);
    this.keepaliveTime = options["grpc.keepalive_time_ms"] ?? -1;
    this.backoff = new experimental.BackoffTimeout(() => this.backoffEnded(), {
      initialDelay: options["grpc.initial_reconnect_backoff_ms"],
      maxDelay: options["grpc.max_reconnect_backoff_ms"],
    });
    this.backoff.unref();
    this.secureConnector = context.secureConnector(options);
    this.ref_ = { kind: "subchannel", id: -++lastId, name: this.addressString } as SubchannelRef;
  }

  /** The transport calls go on now; undefined unless READY. */
  get readyTransport(): Http2Transport | undefined {
    return this.state === State.READY ? this.transport : undefined;
  }

  /** The call credentials of the channel's credentials (empty unless composed). */
  getCallCredentials(): CallCredentials {
    return this.secureConnector.getCallCredentials();
  }

  getConnectivityState(): State {
    return this.state;
  }

  addConnectivityStateListener(listener: ConnectivityStateListener): void {
    this.listeners.add(listener);
  }

  removeConnectivityStateListener(listener: ConnectivityStateListener): void {
    this.listeners.delete(listener);
  }

  startConnecting(): void {
    // A tick later, as grpc-js: a policy may ask while it is still handling a state change.
    process.nextTick(() => {
      if (!this.transition([State.IDLE], State.CONNECTING) && this.state === State.TRANSIENT_FAILURE) {
        this.continueConnecting = true;
      }
    });
  }

  getAddress(): string {
    return this.addressString;
  }

  throttleKeepalive(time: number): void {
    if (time > this.keepaliveTime) this.keepaliveTime = time;
  }

  ref(): void {
    this.refcount++;
  }

  unref(): void {
    if (--this.refcount > 0) return;
    this.released(this);
    this.secureConnector.destroy();
    process.nextTick(() => this.transition([State.CONNECTING, State.READY], State.IDLE));
  }

  getChannelzRef(): SubchannelRef {
    return this.ref_;
  }

  // Health as grpc-js's own subchannel reports it: always healthy (policies above wrap it to eject).
  isHealthy(): boolean {
    return true;
  }
  addHealthStateWatcher(): void {}
  removeHealthStateWatcher(): void {}
  /** ORCA's data watchers (weighted round robin) are grpc-js's own; nothing feeds them here. */
  addDataWatcher(): void {}

  getRealSubchannel(): ReturnType<SubchannelInterface["getRealSubchannel"]> {
    // grpc-js's type names its own Subchannel class; every caller here only compares or unwraps it.
    return this as unknown as ReturnType<SubchannelInterface["getRealSubchannel"]>;
  }

  realSubchannelEquals(other: SubchannelInterface): boolean {
    return other.getRealSubchannel() === this.getRealSubchannel();
  }

  /** A channel whose calls all go on this subchannel's connection: how the health Watch is made. */
  getChannel(): Channel {
    this.ownChannel ??= new SubchannelCalls(this, this.context.starter);
    return this.ownChannel as unknown as Channel;
  }

  /** The transport says its connection takes no new streams. */
  private readonly owner = {
    disconnected: (transport: Http2Transport, tooManyPings: boolean) => {
      if (transport !== this.transport) return;
      this.transition([State.READY], State.IDLE);
      if (tooManyPings && this.keepaliveTime > 0) this.keepaliveTime = Math.min(this.keepaliveTime * 2, MAX_TIMER_MS);
    },
  };

  private backoffEnded(): void {
    this.transition([State.TRANSIENT_FAILURE], this.continueConnecting ? State.CONNECTING : State.IDLE);
  }

  private connect(): void {
    const timeoutMs = Math.max(MIN_CONNECT_TIMEOUT_MS, this.backoff.getEndTime().getTime() - Date.now());
    const connecting = connectSession(
      this.address,
      { ...this.context, secureConnector: this.secureConnector },
      timeoutMs,
    );
    this.connecting = connecting;
    connecting.connected.then(
      ({ session, settings }) => {
        if (this.connecting !== connecting) {
          session.close();
          return;
        }
        this.connecting = undefined;
        const keepalive = keepaliveOf(this.options, Math.min(this.keepaliveTime, MAX_TIMER_MS));
        const transport = new Http2Transport(session, this.addressString, keepalive, this.owner, settings);
        this.transport = transport;
        if (!this.transition([State.CONNECTING], State.READY)) {
          this.transport = undefined;
          transport.shutdown();
        }
      },
      (error: Error) => {
        if (this.connecting !== connecting) return;
        this.connecting = undefined;
        this.transition([State.CONNECTING], State.TRANSIENT_FAILURE, error.message);
      },
    );
  }

  /** grpc-js's Subchannel.transitionToState: the same moves, the same listeners' arguments. */
  private transition(from: readonly State[], to: State, errorMessage?: string): boolean {
    if (!from.includes(this.state)) return false;
    const previous = this.state;
    this.state = to;
    switch (to) {
      case State.READY:
        this.backoff.stop();
        this.backoff.reset();
        break;
      case State.CONNECTING:
        this.backoff.runOnce();
        this.continueConnecting = false;
        this.connect();
        break;
      case State.TRANSIENT_FAILURE:
      case State.IDLE:
        this.connecting?.cancel();
        this.connecting = undefined;
        this.transport?.shutdown();
        this.transport = undefined;
        if (to === State.TRANSIENT_FAILURE && !this.backoff.isRunning()) process.nextTick(() => this.backoffEnded());
        if (to === State.IDLE && this.refcount <= 0) this.backoff.stop();
        break;
    }
    for (const listener of [...this.listeners]) listener(this, previous, to, this.keepaliveTime, errorMessage);
    return true;
  }
}

/**
 * @internal
 * The channel of one subchannel (grpc-js's `SubchannelInterface.getChannel()`):
 * calls made on it take no pick and go on that subchannel's connection while
 * it is READY, or fail UNAVAILABLE. The health Watch is made on it.
 */
class SubchannelCalls implements CallStarter {
  readonly base: CallStarter["base"];
  readonly maxReceiveLength: number;
  readonly maxSendLength: number;

  constructor(
    private readonly subchannel: Http2Subchannel,
    settings: Omit<CallStarter, "startCall" | "forget">,
  ) {
    this.base = settings.base;
    this.maxReceiveLength = settings.maxReceiveLength;
    this.maxSendLength = settings.maxSendLength;
  }

  createCall(method: string, deadline: Date | number): Http2Call {
    return new Http2Call(this, method, deadline instanceof Date ? deadline.getTime() : deadline);
  }

  startCall(call: Http2Call): void {
    const transport = this.subchannel.readyTransport;
    if (transport && call.open(transport, null, null)) return;
    call.failToStart({
      code: Status.UNAVAILABLE,
      details: `Subchannel ${this.subchannel.getAddress()} is not READY`,
      metadata: new Metadata(),
    });
  }

  forget(): void {}
}
