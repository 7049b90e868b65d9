import { connectivityState as State, type ChannelOptions, experimental } from "@grpc/grpc-js";

type Endpoint = experimental.Endpoint;
type Picker = experimental.Picker;
type ChannelControlHelper = experimental.ChannelControlHelper;

/** One connection of a client, as `client.$channel.stats()` lists it. */
export interface ConnectionStats {
  /** The backend address it is connected (or connecting) to, `host:port`. */
  address: string;
  /** Its connectivity state. */
  state: keyof typeof State;
  /**
   * `"serving"` takes calls; `"replacement"` is connecting to take over from a
   * connection past its max age; `"draining"` no longer takes calls and closes
   * once the calls on it end.
   */
  role: "serving" | "replacement" | "draining";
  /** Calls started on it that have not ended. */
  inFlight: number;
  /** Calls started on it that have ended, with any status. */
  completed: number;
  /** Milliseconds since it became ready; undefined while not connected. */
  ageMs: number | undefined;
}

// Subchannels with equal address and options are one connection in grpc-js;
// a distinct value of this option per Connection makes each its own.
const CONNECTION_OPTION = "balanced-grpc.connection";
const PEEK = { metadata: undefined as never, extraPickInfo: {} };
let lastId = 0;

/**
 * @internal
 * One connection slot of the balancer: grpc-js's leaf policy (pick_first over
 * one endpoint, or over every address for `pickFirst()`) plus what the
 * balancer needs to know of it: state, calls in flight and completed, the
 * address it reached, and since when.
 */
export class Connection {
  readonly id = ++lastId;
  role: ConnectionStats["role"] = "serving";
  state: State = State.IDLE;
  /** The state before the last change. */
  previousState: State = State.IDLE;
  picker: Picker;
  inFlight = 0;
  completed = 0;
  /** Why it last failed to connect, from grpc-js. */
  error: string | null = null;
  /** When it last became READY (performance.now()). */
  readyAt: number | undefined;
  private address: string | undefined;
  private readonly leaf: experimental.LeafLoadBalancer;
  private closed = false;

  /** Counts a call that started on this connection; shared by every pick of it. */
  readonly started = (): void => {
    this.inFlight++;
  };

  /** Counts a call that ended; closes the connection once a draining one is idle. */
  readonly ended = (): void => {
    this.inFlight--;
    this.completed++;
    if (this.role === "draining" && this.inFlight === 0) this.close();
  };

  constructor(
    readonly endpoint: Endpoint,
    parent: ChannelControlHelper,
    options: ChannelOptions,
    resolutionNote: string,
    /** Called after each state change of this connection. */
    private readonly changed: (connection: Connection) => void,
  ) {
    const id = this.id;
    const helper = experimental.createChildChannelControlHelper(parent, {
      createSubchannel: (address, args) => parent.createSubchannel(address, { ...args, [CONNECTION_OPTION]: id }),
      updateState: (state, picker, errorMessage) => {
        if (this.closed) return;
        if (errorMessage) this.error = errorMessage;
        if (state === State.READY && this.state !== State.READY) {
          this.readyAt = performance.now();
          this.address = picker.pick(PEEK).subchannel?.getAddress() ?? this.address;
        }
        if (state !== State.READY) this.readyAt = undefined;
        this.previousState = this.state;
        this.state = state;
        this.picker = picker;
        this.changed(this);
      },
    });
    this.leaf = new experimental.LeafLoadBalancer(endpoint, helper, options, resolutionNote);
    this.picker = this.leaf.getPicker();
  }

  startConnecting(): void {
    this.leaf.startConnecting();
  }

  exitIdle(): void {
    this.leaf.exitIdle();
  }

  /** Takes new addresses (pickFirst) or options; keeps the connection if its address remains. */
  update(endpoint: Endpoint, options: ChannelOptions): void {
    this.leaf.updateEndpoint(endpoint, options);
  }

  /** Stops taking calls; closes once the calls on it end. */
  drain(): void {
    this.role = "draining";
    if (this.inFlight === 0) this.close();
  }

  /** Closes now. HTTP/2 closes gracefully: streams already open finish. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.leaf.destroy();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  stats(now: number): ConnectionStats {
    return {
      address: this.address ?? this.endpoint.addresses.map(experimental.subchannelAddressToString).join(","),
      state: State[this.state] as keyof typeof State,
      role: this.role,
      inFlight: this.inFlight,
      completed: this.completed,
      ageMs: this.readyAt === undefined ? undefined : Math.round(now - this.readyAt),
    };
  }
}
