import { type ChannelOptions, experimental, connectivityState as State } from "@grpc/grpc-js";
import { type Clock, systemClock } from "../clock.js";
import type { BackendHealth } from "./backend-health.js";
import { type HealthSource, HealthWatch, type ResolvedHealthCheck } from "./health-watch.js";
import { RttEwma } from "./latency.js";
import { OwnedSubchannel } from "./owned-subchannel.js";
import type { Route } from "./pick-note.js";
import type { StreamLimit, StreamLimitSource } from "./stream-limit.js";

type Endpoint = experimental.Endpoint;
type Picker = experimental.Picker;
type ChannelControlHelper = experimental.ChannelControlHelper;
type Subchannel = experimental.SubchannelInterface;

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
  /** Its calls' recent round-trip time, ms (what p2c weighs calls in flight by); 0 before any. */
  rttMs: number;
  /**
   * Calls it carries at once before more would wait inside HTTP/2 for a
   * stream (the server's SETTINGS_MAX_CONCURRENT_STREAMS; 4294967295 when the
   * server sets none). Picks give a call to a connection at its limit only
   * when no other has room.
   */
  streamLimit: number;
  /**
   * Where {@link ConnectionStats.streamLimit} came from: `"server"` (what the server
   * advertised), `"option"` (`streamsPerConnection`), or `"assumed"` (100, for
   * want of either: while the server has not answered, or with TLS, a proxy,
   * or `pickFirst()`, where it is not probed).
   */
  streamLimitSource: StreamLimitSource;
  /** Connections now serving its address: the pool's current size there (1 for `pickFirst()` and `roundRobin()`). */
  poolSize: number;
  /**
   * Whether its server's health lets it take new calls (client-side health
   * checking, grpc.health.v1): false while the server says it is not serving,
   * and while a new connection waits for the server's first answer; true
   * with `healthCheck: false`. Calls already on it finish either way. When no
   * ready connection's server serves, calls go to those not serving anyway
   * (see docs/health-and-drain.md).
   */
  healthy: boolean;
  /**
   * Where {@link ConnectionStats.healthy} came from: `"serving"` or
   * `"not_serving"`, what the server said on its `Watch` (NOT_SERVING,
   * SERVICE_UNKNOWN and UNKNOWN are all `"not_serving"`); `"unimplemented"`,
   * the server has no health service (healthy, and not asked again on this
   * connection); `"unknown"`, no answer yet, health checking off, not
   * connected, or the Watch failed before any answer (then it takes calls).
   */
  healthSource: HealthSource;
}

// Subchannels with equal address and options are one connection in grpc-js;
// a distinct value of this option per Connection makes each its own.
const CONNECTION_OPTION = "balanced-grpc.connection";
const PEEK = { metadata: undefined as never, extraPickInfo: {} };
let lastId = 0;
/** Routes are numbered across connections: each is one connection's transport (see {@link Connection.route}). */
let lastRoute = 0;
/** How fast the round-trip estimate forgets, ms (Finagle and Linkerd use 10 s; a pool reacts in about a second). */
const RTT_DECAY_MS = 1_000;
/** The cost of a connection with calls on it but no answer yet: more than any measured one. */
const UNMEASURED_PENALTY = 1e6;

const withPending = new Set<Connection>();
let forgetting = false;

function forgetPendingSoon(connection: Connection): void {
  withPending.add(connection);
  if (forgetting) return;
  forgetting = true;
  setImmediate(() => {
    forgetting = false;
    for (const c of withPending) c.forgetPending();
    withPending.clear();
  });
}

/**
 * @internal
 * One connection slot of the balancer: grpc-js's leaf policy (pick_first over
 * one endpoint, or over every address for `pickFirst()`) plus what the
 * balancer needs to know of it: state, calls in flight and completed, the
 * address it reached, and since when.
 */
export class Connection {
  readonly id = ++lastId;
  state: State = State.IDLE;
  /** The state before the last change. */
  previousState: State = State.IDLE;
  picker: Picker;
  inFlight = 0;
  completed = 0;
  /**
   * Calls picked for this connection that have not started yet. grpc-js starts
   * a picked call a microtask later, so a burst of picks in one tick (many
   * responses arriving in one read, each caller sending its next call) would
   * all see the same counts; these count them until they start, and are
   * forgotten on the next turn of the event loop (a pick whose call never
   * starts must not weigh for ever).
   */
  pending = 0;
  /** Why it last failed to connect, from grpc-js. */
  error: string | null = null;
  /** When it last became READY (performance.now()). */
  readyAt: number | undefined;
  /** The backend address, once connected. */
  backend = "";
  /**
   * Where a call picked now goes: this connection as it is now connected (a
   * reconnect is a new transport, with its own route), and its backend. A
   * retry or replay passes over the transport its attempt went to, not a
   * fresh one of the same slot.
   */
  route: Route = { connection: ++lastRoute, backend: "" };
  /**
   * How its backend has been answering, as seen on this connection: per
   * connection, not per address, since behind an L4 balancer every
   * connection has the same address and a different server.
   */
  health: BackendHealth | undefined;
  /** The resolved address it serves (its endpoint's key): the pool's sizes are per address. */
  readonly key: string;
  /** Set by the balancer from the address's limit; {@link limit} is its value, read on every pick. */
  private streamLimit: StreamLimit = { value: Number.POSITIVE_INFINITY, source: "assumed" };
  private limit = Number.POSITIVE_INFINITY;
  /** Most calls in flight since {@link takePeak} last read it. */
  private peak = 0;
  private address: string | undefined;
  private readonly leaf: experimental.LeafLoadBalancer;
  private closed = false;
  /** Told when a policy above (outlier detection) ejects its subchannel or lets it back. */
  ejectionChanged: ((connection: Connection) => void) | undefined;
  /** The subchannels its leaf made (one per address it may connect to). */
  private readonly subchannels: OwnedSubchannel[] = [];
  /** While draining with a grace: the timer that ends it. */
  private grace: { clock: Clock; timer: unknown } | undefined;
  /** Health checking: what to watch, on which clock, and whom to tell; undefined when off. */
  private check: { settings: ResolvedHealthCheck; clock: Clock; changed: (c: Connection) => void } | undefined;
  /** The Watch on the transport now connected, and the subchannel it is on. */
  private watch: { health: HealthWatch; subchannel: Subchannel } | undefined;
  /** Ends the Watch when the transport it is on goes away (the subchannel leaves READY). */
  private readonly transportListener = (_s: Subchannel, _previous: State, next: State): void => {
    if (next !== State.READY) this.stopWatch();
  };

  private readonly rtt = new RttEwma(RTT_DECAY_MS);
  /** Whether a call is being timed: picked, started, or none. */
  private timing: "no" | "picked" | "started" = "no";

  /**
   * What p2c compares: its recent round-trip time times the square root of
   * its calls (in flight, and picked but not yet started) plus one. With
   * backends alike, the lower cost is the connection with fewer calls in
   * flight; a backend that answers slower loses to one with a few more calls
   * (Linkerd and Finagle multiply by the calls themselves; the square root
   * lets latency count for more, which keeps a slow backend's share down even
   * when the client's own queueing inflates every round trip). Before its
   * first call ends, a connection is tried once and then waits for that answer.
   */
  cost(now: number): number {
    const load = this.inFlight + this.pending;
    const rtt = this.rtt.read(now);
    if (rtt === 0) return load === 0 ? 0 : UNMEASURED_PENALTY + load;
    // A backend that fails fast answers fastest: its failures weigh in, or p2c would prefer it.
    return rtt * Math.sqrt(load + 1) * (this.health?.penalty ?? 1);
  }

  /** Whether its backend takes calls at `now` (see BackendHealth). */
  available(now?: number): boolean {
    return (this.health?.available(now) ?? true) && !this.ejected;
  }

  /** Whether a policy above (outlier detection) ejected the subchannel it is connected on. */
  get ejected(): boolean {
    for (const s of this.subchannels) if (s.ejected && s.getConnectivityState() === State.READY) return true;
    return false;
  }

  /** Calls on it now: in flight, and picked but not started yet. */
  get load(): number {
    return this.inFlight + this.pending;
  }

  /** Whether one more call fits under the server's stream limit (the health Watch takes a stream too). */
  hasRoom(): boolean {
    return this.inFlight + this.pending + this.reserved < this.limit;
  }

  /** Calls it carries at once before more would wait: the stream limit less the health Watch's stream. */
  get callLimit(): number {
    return this.streamLimit.value - this.reserved;
  }

  /** Streams not for calls: the health Watch's, unless health checking is off or the server has no health service. */
  private get reserved(): number {
    return !this.watchable || this.watch?.health.source === "unimplemented" ? 0 : 1;
  }

  /** Whether it takes new calls: connected, and its server's health says so (see {@link ConnectionStats.healthy}). */
  get usable(): boolean {
    return this.state === State.READY && this.healthy;
  }

  /** Whether its health lets it take calls: off, or settled and not "not serving". */
  get healthy(): boolean {
    if (!this.watchable) return true;
    const health = this.watch?.health;
    return health?.settled === true && health.healthy;
  }

  /** Connected, and waiting for its server's first health answer: about to take calls, or not. */
  get awaitingHealth(): boolean {
    return this.state === State.READY && this.watchable && !this.watch?.health.settled;
  }

  /** Connected, and its server says it is not serving. */
  get notServing(): boolean {
    const health = this.watch?.health;
    return this.state === State.READY && health?.settled === true && !health.healthy;
  }

  /** What its server last said on its Watch (e.g. "NOT_SERVING"), if anything. */
  get healthSaid(): string | undefined {
    return this.watch?.health.said;
  }

  /**
   * Health checking for this connection from now on: one `Watch` per
   * transport, asking about `settings.serviceName`; `changed` hears of each
   * change of its health. `false` turns it off (every connection healthy).
   */
  checkHealth(settings: ResolvedHealthCheck | false, clock: Clock, changed: (c: Connection) => void): void {
    const same = settings && this.check?.settings.serviceName === settings.serviceName;
    if (same || (!settings && !this.check)) return;
    this.stopWatch();
    this.check = settings ? { settings, clock, changed } : undefined;
    if (this.state === State.READY) this.watchOn(this.picker.pick(PEEK).subchannel ?? undefined);
  }

  /** Watches the health of the transport `subchannel` is connected on, unless it is watched already. */
  private watchOn(subchannel: Subchannel | undefined): void {
    const check = this.check;
    if (!check || !this.watchable || !subchannel || this.closed || this.role === "draining") return;
    if (this.watch && this.watch.subchannel.getRealSubchannel() === subchannel.getRealSubchannel()) return;
    this.stopWatch();
    subchannel.addConnectivityStateListener(this.transportListener);
    const health = new HealthWatch(subchannel.getChannel(), check.settings.serviceName, check.clock, () => {
      if (this.watch?.health === health) check.changed(this);
    });
    this.watch = { health, subchannel };
  }

  private stopWatch(): void {
    const watch = this.watch;
    if (!watch) return;
    this.watch = undefined;
    watch.subchannel.removeConnectivityStateListener(this.transportListener);
    watch.health.stop();
  }

  /** The limit in force, and where it came from. */
  get streamLimits(): StreamLimit {
    return this.streamLimit;
  }

  setStreamLimit(limit: StreamLimit): void {
    this.streamLimit = limit;
    this.limit = limit.value;
    // The balancer picks again after a limit changes (see Balancer.learned).
    if (this.watch && !this.watchable)
      this.stopWatch(); // it would hold the only stream (see watchable)
    else if (!this.watch && this.watchable && this.state === State.READY) {
      this.watchOn(this.picker.pick(PEEK).subchannel ?? undefined);
    }
  }

  /**
   * Whether its health is watched: checking is on, and the server allows more
   * than one stream per connection (with one, the Watch would hold it, and
   * every call would wait behind it for ever, as gRFC A17 warns).
   */
  private get watchable(): boolean {
    return this.check !== undefined && this.streamLimit.value > 1;
  }

  /** Most calls in flight since the last read; the next period starts from the calls in flight now. */
  takePeak(): number {
    const peak = Math.max(this.peak, this.inFlight);
    this.peak = this.inFlight;
    return peak;
  }

  /** Counts a call picked for this connection. */
  picked(now?: number): void {
    if (this.pending++ === 0) forgetPendingSoon(this);
    this.health?.picked(now);
  }

  /**
   * Whether to time the call just picked: yes if no timed call is under way
   * on this connection. Under load that is a sample per round trip, plenty
   * for the estimate, and the other calls allocate nothing for it.
   */
  timeThisCall(): boolean {
    if (this.timing !== "no") return false;
    this.timing = "picked";
    return true;
  }

  /** Picks not started by the next turn of the event loop never will: forget them (and a timing among them). */
  forgetPending(): void {
    this.pending = 0;
    if (this.timing === "picked") this.timing = "no";
  }

  /** Counts a call that started on this connection. */
  readonly started = (): void => {
    if (++this.inFlight > this.peak) this.peak = this.inFlight;
    if (this.pending > 0) this.pending--;
  };

  /** Counts a call that ended (its backend's health learns how); closes the connection once a draining one is idle. */
  readonly ended = (code: number, details: string): void => {
    this.health?.ended(code, details);
    this.inFlight--;
    this.completed++;
    if (this.role === "draining" && this.inFlight === 0) this.close();
  };

  startedTimed(): void {
    this.timing = "started";
    this.started();
  }

  /** A timed call ended: its round trip goes into the estimate. */
  endedTimed(startedAt: number, code: number, details: string): void {
    const now = performance.now();
    this.rtt.observe(now - startedAt, now);
    this.timing = "no";
    this.ended(code, details);
  }

  constructor(
    readonly endpoint: Endpoint,
    parent: ChannelControlHelper,
    options: ChannelOptions,
    resolutionNote: string,
    /** Called after each state change of this connection. */
    private readonly changed: (connection: Connection) => void,
    /** A replacement connects while the connection it replaces serves, until {@link promote}d. */
    private role: ConnectionStats["role"] = "serving",
  ) {
    const id = this.id;
    this.key = experimental.endpointToString(endpoint);
    const helper = experimental.createChildChannelControlHelper(parent, {
      createSubchannel: (address, args) => {
        const made = parent.createSubchannel(address, { ...args, [CONNECTION_OPTION]: id });
        const subchannel = new OwnedSubchannel(made, () => {
          if (!this.closed) this.ejectionChanged?.(this);
        });
        this.subchannels.push(subchannel);
        return subchannel;
      },
      updateState: (state, picker, errorMessage) => {
        if (this.closed) return;
        if (errorMessage) this.error = errorMessage;
        if (state === State.READY && this.state !== State.READY) {
          this.readyAt = performance.now();
          this.address = picker.pick(PEEK).subchannel?.getAddress() ?? this.address;
          this.backend = this.address ?? "";
          this.route = { connection: ++lastRoute, backend: this.backend };
        }
        if (state !== State.READY) this.readyAt = undefined;
        this.previousState = this.state;
        this.state = state;
        this.picker = picker;
        // Each transport its leaf picks gets a Watch: a new one, or after a reconnect.
        if (state === State.READY && this.check) this.watchOn(picker.pick(PEEK).subchannel ?? undefined);
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

  /** A replacement that is ready takes calls now. */
  promote(): void {
    this.role = "serving";
  }

  /** Whether it was drained: it takes no calls, and closes once its calls end. */
  get isDraining(): boolean {
    return this.role === "draining";
  }

  /**
   * Stops taking calls; closes once the calls on it end. With `graceMs`,
   * `graceOver` is called if calls are still on it then (to cancel them).
   */
  drain(graceMs?: number, graceOver?: () => void, clock: Clock = systemClock): void {
    this.role = "draining";
    // It takes no calls: its health no longer matters, and an open Watch would hold its transport open.
    this.stopWatch();
    if (this.inFlight === 0) {
      this.close();
      return;
    }
    if (graceMs !== undefined && graceOver) {
      this.grace = {
        clock,
        timer: clock.setTimeout(() => {
          this.grace = undefined;
          if (!this.closed) graceOver();
        }, graceMs),
      };
    }
  }

  /** Closes now. HTTP/2 closes gracefully: streams already open finish. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.grace !== undefined) this.grace.clock.clearTimeout(this.grace.timer);
    // Before the leaf lets its subchannel go: HTTP/2 closes gracefully, after its open streams.
    this.stopWatch();
    this.leaf.destroy();
    this.changed(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  stats(now: number, poolSize: number): ConnectionStats {
    return {
      address: this.address ?? this.endpoint.addresses.map(experimental.subchannelAddressToString).join(","),
      state: State[this.state] as keyof typeof State,
      role: this.role,
      inFlight: this.inFlight,
      completed: this.completed,
      ageMs: this.readyAt === undefined ? undefined : Math.round(now - this.readyAt),
      rttMs: Math.round(this.rtt.read(now) * 100) / 100,
      streamLimit: this.streamLimit.value,
      streamLimitSource: this.streamLimit.source,
      poolSize,
      healthy: this.healthy,
      healthSource: this.watch?.health.source ?? "unknown",
    };
  }
}
