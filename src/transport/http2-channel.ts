import {
  CallCredentials,
  type ChannelCredentials,
  type ChannelInterface,
  type ChannelOptions,
  experimental,
  Metadata,
  connectivityState as State,
  status as Status,
} from "@grpc/grpc-js";
import { proxiedTarget } from "./http-proxy.js";
import { type CallStarter, Http2Call } from "./http2-call.js";
import { Http2Subchannel } from "./http2-subchannel.js";
import { SubchannelPool } from "./subchannel-pool.js";
import { parseTarget } from "./target-uri.js";

type Picker = experimental.Picker;
type Resolver = experimental.Resolver;
type ChannelRef = ReturnType<ChannelInterface["getChannelzRef"]>;

/** grpc-js's default receive limit (4 MiB); sends are unlimited by default. */
const DEFAULT_MAX_RECEIVE_LENGTH = 4 * 1024 * 1024;
const NO_PICK_INFO = {};
const EMPTY_CALL_CREDENTIALS = CallCredentials.createEmpty();

/** @internal What an HTTP/2 channel is made of (the SDK's resolved channel settings). */
export interface Http2ChannelSettings {
  target: string;
  credentials: ChannelCredentials;
  /** grpc-js channel options (keepalive, backoff, message limits, the balancer's board). */
  options: ChannelOptions;
  /** The load-balancing policy: the SDK's balancer, under outlier detection or not. */
  loadBalancing: experimental.TypedLoadBalancingConfig;
  /** `user-agent`, before `grpc.primary_user_agent` / after `grpc.secondary_user_agent`. */
  userAgent: string;
}

interface StateWatcher {
  state: State;
  callback: (error?: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * @internal
 * The SDK's own channel on `node:http2`, in the place of grpc-js's `Channel`
 * under a `BalancedChannel`: the same interface, the same load-balancing
 * policy (grpc-js's registry builds it, through grpc-js's
 * `ChildLoadBalancerHandler`), with grpc-js's resolvers
 * (`experimental.createResolver`) and credentials (their `SecureConnector`).
 * What it leaves out of grpc-js's channel is the per-call stack between a
 * call and its stream: the resolving call, the load-balancing call, the retry
 * layer, the filter stack and the subchannel call (the SDK's engine and its
 * `ReplayingCall` do the retries and replays).
 *
 * A call is picked as grpc-js picks it: with the current picker, at once;
 * a pick that says QUEUE (or no connection yet, or TRANSIENT_FAILURE for a
 * call with `waitForReady`) waits for the next picker, and every waiting call
 * is picked again when one comes.
 */
export class Http2Channel implements ChannelInterface, CallStarter {
  readonly base: CallStarter["base"];
  readonly maxReceiveLength: number;
  readonly maxSendLength: number;
  private readonly uri: experimental.GrpcUri;
  private readonly pool: SubchannelPool;
  private readonly balancer: experimental.ChildLoadBalancerHandler;
  private resolver: Resolver | undefined;
  private resolutionRetry: experimental.BackoffTimeout | undefined;
  private state: State = State.IDLE;
  private picker: Picker;
  private readonly queued = new Set<Http2Call>();
  private readonly watchers = new Set<StateWatcher>();
  private closed = false;
  /** The channel credentials' own call credentials, when they have any (composed with `credentials.compose`). */
  private readonly callCredentials: CallCredentials | undefined;
  private readonly ref: ChannelRef;

  constructor(private readonly settings: Http2ChannelSettings) {
    const { options } = settings;
    const { uri, authority } = parseTarget(settings.target, options["grpc.default_authority"]);
    // Behind an HTTP proxy the resolver resolves the proxy; the credentials and the authority stay the target's.
    const proxied = proxiedTarget(uri, options);
    this.uri = proxied?.uri ?? uri;
    const userAgent = [options["grpc.primary_user_agent"], settings.userAgent, options["grpc.secondary_user_agent"]]
      .filter((part) => part)
      .join(" ");
    this.base = { authority, userAgent };
    this.maxReceiveLength = options["grpc.max_receive_message_length"] ?? DEFAULT_MAX_RECEIVE_LENGTH;
    this.maxSendLength = options["grpc.max_send_message_length"] ?? -1;
    const probe = settings.credentials._createSecureConnector(uri, options);
    const callCredentials = probe.getCallCredentials();
    probe.destroy();
    this.callCredentials = callCredentials._equals(EMPTY_CALL_CREDENTIALS) ? undefined : callCredentials;
    this.pool = new SubchannelPool({
      authority,
      flowControlWindow: options["grpc-node.flow_control_window"],
      maxSessionMemory: options["grpc-node.max_session_memory"],
      tunnel: proxied?.tunnel,
      starter: this,
      secureConnector: (subchannelOptions) => settings.credentials._createSecureConnector(uri, subchannelOptions),
    });
    this.balancer = new experimental.ChildLoadBalancerHandler({
      createSubchannel: (address, args) => {
        const subchannel = this.pool.get(address, { ...options, ...args });
        subchannel.throttleKeepalive(options["grpc.keepalive_time_ms"] ?? -1);
        return subchannel;
      },
      updateState: (state, picker) => this.update(state, picker),
      requestReresolution: () => this.resolver?.updateResolution(),
      addChannelzChild: () => {},
      removeChannelzChild: () => {},
    });
    this.picker = new experimental.QueuePicker(this.balancer);
    this.ref = { kind: "channel", id: -1, name: settings.target } as ChannelRef;
  }

  /**
   * The stream limit of the server at `address`, from this channel's own
   * connection to it (the balancer's stream-limit source: no probe connection).
   */
  streamLimit(address: experimental.SubchannelAddress, timeoutMs: number): Promise<number | undefined> {
    return this.pool.streamLimit(address, timeoutMs);
  }

  // --- grpc-js's Channel ------------------------------------------------------

  getTarget(): string {
    return this.settings.target;
  }

  createCall(method: string, deadline: Date | number): Http2Call {
    if (this.closed) throw new Error("Channel has been shut down");
    return new Http2Call(this, method, deadline instanceof Date ? deadline.getTime() : deadline);
  }

  getConnectivityState(tryToConnect: boolean): State {
    if (tryToConnect && this.state === State.IDLE) this.exitIdle();
    return this.state;
  }

  watchConnectivityState(currentState: State, deadline: Date | number, callback: (error?: Error) => void): void {
    if (this.closed) throw new Error("Channel has been shut down");
    if (currentState !== this.state) {
      process.nextTick(callback);
      return;
    }
    const watcher: StateWatcher = { state: currentState, callback, timer: undefined };
    const ms = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now();
    if (ms !== Number.POSITIVE_INFINITY) {
      watcher.timer = setTimeout(
        () => {
          this.watchers.delete(watcher);
          callback(new Error("Deadline passed without connectivity state change"));
        },
        Math.max(0, ms),
      );
    }
    this.watchers.add(watcher);
  }

  getChannelzRef(): ChannelRef {
    return this.ref;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.resolutionRetry?.stop();
    this.resolver?.destroy();
    this.balancer.destroy();
    for (const call of [...this.queued]) this.failToStart(call, "Channel closed before call started");
    this.queued.clear();
    this.setState(State.SHUTDOWN);
    for (const watcher of this.watchers) if (watcher.timer) clearTimeout(watcher.timer);
    this.watchers.clear();
  }

  // --- Picks ------------------------------------------------------------------

  /** @internal */
  startCall(call: Http2Call): void {
    this.pick(call);
  }

  /** @internal */
  forget(call: Http2Call): void {
    this.queued.delete(call);
  }

  private pick(call: Http2Call): void {
    if (call.ended) return;
    if (this.closed) {
      this.failToStart(call, "Channel closed before call started");
      return;
    }
    if (this.state === State.IDLE) this.exitIdle();
    const result = this.picker.pick({ metadata: call.callMetadata, extraPickInfo: NO_PICK_INFO });
    switch (result.pickResultType) {
      case experimental.PickResultType.COMPLETE: {
        const subchannel = result.subchannel?.getRealSubchannel() as unknown;
        if (!(subchannel instanceof Http2Subchannel)) {
          this.failToStart(call, "balanced-grpc: the pick returned a subchannel of another transport", Status.INTERNAL);
          return;
        }
        if (this.callCredentials || call.credentials) {
          this.authenticate(call, subchannel, result);
          return;
        }
        this.open(call, subchannel, result);
        return;
      }
      case experimental.PickResultType.QUEUE:
        this.queued.add(call);
        return;
      case experimental.PickResultType.TRANSIENT_FAILURE:
        if (call.callMetadata.getOptions().waitForReady) {
          this.queued.add(call);
          return;
        }
        this.failToStart(call, result.status?.details ?? "No connection established", result.status?.code);
        return;
      default:
        this.failToStart(call, result.status?.details ?? "Call dropped by load balancing policy", result.status?.code);
    }
  }

  private open(call: Http2Call, subchannel: Http2Subchannel, result: experimental.PickResult): void {
    const transport = subchannel.readyTransport;
    if (transport?.usable && call.open(transport, result.onCallStarted, result.onCallEnded)) return;
    // The connection stopped taking streams between the pick and now (a GOAWAY being handled): pick again
    // with the next picker, which the connection's state change brings.
    this.queued.add(call);
  }

  /** The call credentials' metadata (the channel's and the call's own), then the stream (grpc-js's order). */
  private authenticate(call: Http2Call, subchannel: Http2Subchannel, result: experimental.PickResult): void {
    const own = call.credentials;
    const channel = this.callCredentials;
    const credentials = own && channel ? own.compose(channel) : (own ?? channel)!;
    const service = call.method.slice(1, call.method.lastIndexOf("/"));
    credentials
      .generateMetadata({ method_name: call.method, service_url: `https://${this.base.authority}/${service}` })
      .then(
        (metadata) => {
          if (call.ended) return;
          call.addMetadata(metadata);
          if (subchannel.readyTransport) this.open(call, subchannel, result);
          else this.pick(call);
        },
        (error: Error & { code?: number }) => {
          const code = typeof error.code === "number" ? error.code : Status.UNKNOWN;
          this.failToStart(call, `Getting metadata from plugin failed with error: ${error.message}`, code);
        },
      );
  }

  private failToStart(call: Http2Call, details: string, code: Status = Status.UNAVAILABLE): void {
    this.queued.delete(call);
    call.failToStart({ code, details, metadata: new Metadata() });
  }

  // --- State ------------------------------------------------------------------

  private update(state: State, picker: Picker): void {
    if (this.closed) return;
    this.picker = picker;
    this.setState(state);
    if (this.queued.size === 0) return;
    const queued = [...this.queued];
    this.queued.clear();
    for (const call of queued) this.pick(call);
  }

  private setState(state: State): void {
    if (state === this.state) return;
    this.state = state;
    for (const watcher of [...this.watchers]) {
      if (watcher.state === state) continue;
      this.watchers.delete(watcher);
      if (watcher.timer) clearTimeout(watcher.timer);
      process.nextTick(watcher.callback);
    }
  }

  /** Resolves the target (once; the balancer asks again when connections drop), and leaves IDLE. */
  private exitIdle(): void {
    if (this.closed) return;
    if (this.resolver) {
      this.balancer.exitIdle();
      return;
    }
    this.setState(State.CONNECTING);
    try {
      this.resolver = experimental.createResolver(this.uri, this.resolved, this.settings.options);
    } catch (error) {
      const details = `balanced-grpc: cannot resolve ${this.settings.target}: ${(error as Error).message}`;
      this.update(State.TRANSIENT_FAILURE, new experimental.UnavailablePicker({ code: Status.UNAVAILABLE, details }));
      return;
    }
    this.resolver.updateResolution();
  }

  /** Each resolution goes to the balancer; a failed one is tried again with backoff (as grpc-js's resolving balancer). */
  private readonly resolved: experimental.ResolverListener = (endpoints, attributes, _serviceConfig, note) => {
    if (this.closed) return false;
    this.balancer.updateAddressList(
      endpoints,
      this.settings.loadBalancing,
      { ...this.settings.options, ...attributes },
      note,
    );
    if (endpoints.ok) {
      this.resolutionRetry?.reset();
    } else {
      this.resolutionRetry ??= new experimental.BackoffTimeout(() => this.resolver?.updateResolution());
      this.resolutionRetry.unref();
      this.resolutionRetry.runOnce();
    }
    return true;
  };
}
