import { type ChannelOptions, experimental, connectivityState as State } from "@grpc/grpc-js";
import { BackendHealth } from "./backend-health.js";
import { BALANCER_NAME, BalancerConfig, type BalancerSettings } from "./balancer-config.js";
import { Connection, type ConnectionStats } from "./connection.js";
import { ConnectionBoard, type ConnectionSource } from "./connection-board.js";
import { type Choose, chooser } from "./pick.js";
import { avoidedBy } from "./pick-hint.js";
import { Recycler } from "./recycler.js";

type Endpoint = experimental.Endpoint;
type PickArgs = experimental.PickArgs;
type PickResult = experimental.PickResult;

/** How soon to try again when a replacement connection could not be made, ms. */
const RECYCLE_RETRY_MS = 1_000;

/**
 * Picks among the ready connections and counts each call on the connection
 * that carries it: the counts are what p2c compares and what stats() shows.
 */
class BalancedPicker implements experimental.Picker {
  constructor(
    private readonly ready: readonly Connection[],
    private readonly choose: Choose,
  ) {}

  pick(args: PickArgs): PickResult {
    const connection = this.ready[this.choose(this.ready, avoidedBy(args.metadata))]!;
    const result = connection.picker.pick(args);
    if (result.pickResultType !== experimental.PickResultType.COMPLETE) return result;
    connection.picked(performance.now());
    const { onCallStarted, onCallEnded } = result;
    if (!onCallStarted && !onCallEnded && !connection.timeThisCall()) {
      // Most calls only count: the connection's shared callbacks, nothing allocated.
      return {
        pickResultType: result.pickResultType,
        subchannel: result.subchannel,
        status: null,
        onCallStarted: connection.started,
        onCallEnded: connection.ended,
      };
    }
    // One call per connection at a time is timed, for its round-trip estimate.
    let startedAt = 0;
    return {
      pickResultType: result.pickResultType,
      subchannel: result.subchannel,
      status: null,
      onCallStarted: () => {
        startedAt = performance.now();
        connection.startedTimed();
        onCallStarted?.();
      },
      onCallEnded: (code, details, metadata) => {
        connection.endedTimed(startedAt, code, details);
        onCallEnded?.(code, details, metadata);
      },
    };
  }
}

/**
 * @internal
 * The SDK's grpc-js load-balancing policy; every strategy runs on it.
 *
 * - `pickFirst`: one connection, grpc-js's pick_first over every address.
 * - `roundRobin`: one connection per resolved address, calls in turn.
 * - `pool`: `size` connections per resolved address; each call takes one of
 *   all of them, by p2c (the less busy of two at random) or in turn.
 *
 * Each connection is a grpc-js leaf policy (pick_first over its endpoint),
 * which handles connecting, backoff and re-resolution; this class decides how
 * many there are, which one each call takes, and, with a max connection age,
 * when one is replaced: the replacement connects while the old one serves,
 * takes over once ready, and the old one closes when its calls are done.
 */
export class Balancer implements experimental.LoadBalancer, ConnectionSource {
  private serving: Connection[] = [];
  private readonly draining = new Set<Connection>();
  private replacing: { old: Connection; next: Connection } | undefined;
  private settings: BalancerSettings | undefined;
  private board: ConnectionBoard | undefined;
  private choose: Choose = chooser("roundRobin");
  private recycler: Recycler<Connection> | undefined;
  private options: ChannelOptions = {};
  private resolutionNote = "";
  private state: State = State.IDLE;
  private updating = false;
  private readonly changed = (connection: Connection) => this.onChange(connection);
  /** How each backend has been answering, by address: shared by its connections, kept across reconnects. */
  private readonly health = new Map<string, BackendHealth>();

  constructor(private readonly helper: experimental.ChannelControlHelper) {}

  updateAddressList(
    endpoints: experimental.StatusOr<Endpoint[]>,
    config: experimental.TypedLoadBalancingConfig,
    options: ChannelOptions,
    resolutionNote: string,
  ): boolean {
    if (!(config instanceof BalancerConfig)) return false;
    this.reportTo(ConnectionBoard.of(options));
    this.configure(config.settings);
    this.options = options;
    this.resolutionNote = resolutionNote;
    if (!endpoints.ok) {
      if (this.serving.length === 0) this.report(State.TRANSIENT_FAILURE, endpoints.error.details);
      return true;
    }
    if (endpoints.value.length === 0) {
      for (const connection of this.serving) this.retire(connection);
      this.serving = [];
      this.report(State.TRANSIENT_FAILURE, `No addresses resolved. Resolution note: ${resolutionNote}`);
      return true;
    }
    this.updating = true;
    this.serving = this.reconcile(endpoints.value);
    this.updating = false;
    this.forgetHealthOfGoneBackends();
    this.recalculate();
    return true;
  }

  exitIdle(): void {
    for (const connection of this.serving) if (connection.state === State.IDLE) connection.exitIdle();
  }

  resetBackoff(): void {
    // Each leaf keeps its own backoff.
  }

  destroy(): void {
    this.recycler?.stop();
    for (const connection of [...this.serving, ...this.draining]) connection.close();
    this.replacing?.next.close();
    this.serving = [];
    this.draining.clear();
    this.replacing = undefined;
    this.board?.detach(this);
  }

  getTypeName(): string {
    return BALANCER_NAME;
  }

  stats(): ConnectionStats[] {
    const now = performance.now();
    const all = [...this.serving, ...(this.replacing ? [this.replacing.next] : []), ...this.draining];
    return all.map((connection) => connection.stats(now));
  }

  /** Reports the connections to the channel's board from now on. */
  private reportTo(board: ConnectionBoard | undefined): void {
    if (board === this.board) return;
    this.board?.detach(this);
    this.board = board;
    board?.attach(this);
  }

  private configure(settings: BalancerSettings): void {
    const same = this.settings && JSON.stringify(this.settings) === JSON.stringify(settings);
    if (same) return;
    this.settings = settings;
    this.health.clear(); // made again with the new settings as connections report
    for (const connection of this.serving) {
      if (connection.state === State.READY) connection.health = this.healthOf(connection.backend);
    }
    this.choose = chooser(settings.pick);
    this.recycler?.stop();
    this.recycler =
      settings.maxConnectionAgeMs === undefined
        ? undefined
        : new Recycler(settings.maxConnectionAgeMs, (connection) => this.recycle(connection));
    if (this.recycler) for (const c of this.serving) if (c.state === State.READY) this.recycler.track(c);
  }

  /** The connections the new endpoint list needs, keeping those still wanted. */
  private reconcile(endpoints: readonly Endpoint[]): Connection[] {
    const { mode, size } = this.settings!;
    if (mode === "pickFirst") {
      // One connection over every address, in resolver order.
      const endpoint = { addresses: endpoints.flatMap((e) => e.addresses) };
      const current = this.serving[0];
      if (current) {
        current.update(endpoint, this.options);
        return [current];
      }
      return [this.open(endpoint)];
    }
    const byEndpoint = new Map<string, Connection[]>();
    for (const connection of this.serving) {
      const key = experimental.endpointToString(connection.endpoint);
      byEndpoint.set(key, [...(byEndpoint.get(key) ?? []), connection]);
    }
    const wanted: Connection[] = [];
    for (const endpoint of endpoints) {
      const key = experimental.endpointToString(endpoint);
      const existing = byEndpoint.get(key) ?? [];
      byEndpoint.delete(key);
      wanted.push(...existing.slice(0, size));
      for (const extra of existing.slice(size)) this.retire(extra);
      for (let i = existing.length; i < size; i++) wanted.push(this.open(endpoint));
    }
    for (const gone of byEndpoint.values()) for (const connection of gone) this.retire(connection);
    return wanted;
  }

  private open(endpoint: Endpoint): Connection {
    const connection = new Connection(endpoint, this.helper, this.options, this.resolutionNote, this.changed);
    connection.startConnecting();
    return connection;
  }

  /** Out of the serving set: it drains, and stops counting towards its age. */
  private retire(connection: Connection): void {
    this.recycler?.untrack(connection);
    if (this.replacing?.old === connection) {
      this.abandonReplacement();
      this.recycler?.finished();
    }
    connection.drain();
    if (!connection.isClosed) this.draining.add(connection);
  }

  private onChange(connection: Connection): void {
    if (connection.isDraining) {
      if (connection.isClosed) this.draining.delete(connection);
      return;
    }
    if (connection.state === State.READY) connection.health = this.healthOf(connection.backend);
    if (this.replacing?.next === connection) {
      this.onReplacementChange(connection);
      return;
    }
    // A connection dropped (server max age, a crash): look for backends again,
    // as grpc-js's round_robin does; the resolver rate-limits these.
    if (connection.previousState === State.READY && connection.state !== State.READY) {
      this.helper.requestReresolution();
    }
    if (this.recycler) {
      if (connection.state === State.READY && connection.readyAt !== undefined) this.recycler.track(connection);
      else this.recycler.untrack(connection);
    }
    if (!this.updating) this.recalculate();
  }

  /** The health of the backend at `address`, made on first use; forgotten once no connection goes there. */
  private healthOf(address: string): BackendHealth {
    let health = this.health.get(address);
    if (!health) {
      health = new BackendHealth(this.settings?.failureAccrual ?? false, Math.random, () =>
        this.board?.events?.ejected(address),
      );
      this.health.set(address, health);
    }
    return health;
  }

  private forgetHealthOfGoneBackends(): void {
    const live = new Set([...this.serving, ...this.draining].map((c) => c.backend));
    for (const address of this.health.keys()) if (!live.has(address)) this.health.delete(address);
  }

  // --- Client-side max connection age ------------------------------------

  private recycle(old: Connection): void {
    if (!this.serving.includes(old) || old.state !== State.READY) {
      this.recycler?.finished();
      return;
    }
    const next = new Connection(
      old.endpoint,
      this.helper,
      this.options,
      this.resolutionNote,
      this.changed,
      "replacement",
    );
    this.replacing = { old, next };
    next.startConnecting();
  }

  private onReplacementChange(next: Connection): void {
    const { old } = this.replacing!;
    if (next.state === State.READY) {
      // Ready before the old one stops taking calls: swap, then let it drain.
      this.replacing = undefined;
      next.promote();
      this.serving = this.serving.map((c) => (c === old ? next : c));
      this.retire(old);
      this.board?.events?.recycled(old.backend);
      this.recycler?.track(next);
      this.recycler?.finished();
      this.helper.requestReresolution(); // a recycle also looks for new backends
      this.recalculate();
    } else if (next.state === State.TRANSIENT_FAILURE) {
      this.abandonReplacement();
      // The old one serves on; its recycle is tried again a little later.
      if (this.serving.includes(old)) this.recycler?.failed(old, RECYCLE_RETRY_MS);
      else this.recycler?.finished();
    }
  }

  /** Drops the replacement under way; the caller tells the recycler how that ended. */
  private abandonReplacement(): void {
    const replacement = this.replacing?.next;
    this.replacing = undefined;
    replacement?.close();
  }

  // --- State --------------------------------------------------------------

  private recalculate(): void {
    const ready = this.serving.filter((c) => c.state === State.READY);
    if (ready.length > 0) {
      this.update(State.READY, new BalancedPicker(ready, this.choose), null);
    } else if (this.serving.some((c) => c.state === State.CONNECTING)) {
      this.update(State.CONNECTING, new experimental.QueuePicker(this), null);
    } else if (this.serving.some((c) => c.state === State.TRANSIENT_FAILURE)) {
      this.report(State.TRANSIENT_FAILURE, "No connection established");
    } else {
      this.update(State.IDLE, new experimental.QueuePicker(this), null);
    }
    // Every strategy but pickFirst keeps all its connections up, as grpc-js's
    // round_robin does; pickFirst reconnects when a call needs it.
    if (this.settings?.mode !== "pickFirst") this.exitIdle();
  }

  private report(state: State, details: string): void {
    const lastError = this.serving.find((c) => c.error)?.error;
    const message = `balanced-grpc: ${details}${lastError ? `; last error: ${lastError}` : ""}`;
    this.update(state, new experimental.UnavailablePicker({ details: message }), message);
  }

  private update(state: State, picker: experimental.Picker, errorMessage: string | null): void {
    // Connections dropped: look for backends again (rate-limited by the resolver).
    if (this.state === State.READY && state !== State.READY) this.helper.requestReresolution();
    this.state = state;
    this.helper.updateState(state, picker, errorMessage);
  }
}

let registered = false;

/**
 * @internal
 * Makes the policy known to grpc-js, once: every channel the SDK opens calls
 * it first (grpc-js keeps one registry per process).
 */
export function registerBalancer(): void {
  if (registered) return;
  experimental.registerLoadBalancerType(BALANCER_NAME, Balancer, BalancerConfig);
  registered = true;
}
