import { type ChannelOptions, experimental, connectivityState as State } from "@grpc/grpc-js";
import { type Clock, systemClock } from "../clock.js";
import { HEALTH_WATCH_RETRY } from "../defaults.js";
import { doubling } from "../doubling.js";
import { NO_CONNECTION_DETAILS } from "../grpc-js-errors.js";
import { BackendHealth } from "./backend-health.js";
import { BalancedPicker } from "./balanced-picker.js";
import { BALANCER_NAME, BalancerConfig, type BalancerSettings } from "./balancer-config.js";
import { Connection, type ConnectionStats } from "./connection.js";
import { ConnectionBoard, type ConnectionSource } from "./connection-board.js";
import { type Choose, chooser } from "./pick.js";
import { type PlannedConnections, PoolSizing, type SizedPool } from "./pool-sizing.js";
import { Recycler } from "./recycler.js";
import { StreamLimits } from "./stream-limit.js";

type Endpoint = experimental.Endpoint;

/** How soon to try again when a replacement connection could not be made, ms. */
const RECYCLE_RETRY_MS = 1_000;

/**
 * Why a connection is being replaced: its max age (recycling), or, for
 * `pickFirst()`, its server saying it is not serving (the replacement goes to
 * the next address that serves).
 */
type ReplaceReason = "age" | "health";

/**
 * @internal
 * The SDK's grpc-js load-balancing policy; every strategy runs on it.
 *
 * - `pickFirst`: one connection, grpc-js's pick_first over every address.
 * - `roundRobin`: one connection per resolved address, calls in turn.
 * - `pool`: `size` connections per resolved address, or, adaptive, from `min`
 *   to `max` (see pool-sizing.ts); each call takes one
 *   of all of them, by p2c (the less busy of two at random) or in turn.
 *
 * Every strategy respects each connection's stream limit (the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS, see stream-limit.ts): a call goes to a
 * connection at its limit, where HTTP/2 would hold it until a stream frees up,
 * only when no connection has room.
 *
 * Each connection is a grpc-js leaf policy (pick_first over its endpoint),
 * which handles connecting, backoff and re-resolution; this class decides how
 * many there are, which one each call takes, and, with a max connection age,
 * when one is replaced: the replacement connects while the old one serves,
 * takes over once ready, and the old one closes when its calls are done.
 *
 * With health checking (see health-watch.ts), a connection takes calls only
 * while its server's health says so: picks pass over the others (calls on
 * them finish), and `pickFirst()` moves to the next address that serves (see
 * {@link followHealth}). When no ready connection's server serves, calls go
 * to those not serving rather than fail (Envoy's panic mode, where gRFC A17
 * fails them): NOT_SERVING asks for no new calls *if there is anywhere else
 * to send them*. A draining server serves for its `delayMs` after it says
 * NOT_SERVING, and a client whose other connections are still reconnecting
 * (a rolling deploy, a single backend replaced) would otherwise fail calls
 * that server would have served.
 */
class Balancer implements experimental.LoadBalancer, ConnectionSource {
  private serving: Connection[] = [];
  private readonly draining = new Set<Connection>();
  private replacing: { old: Connection; next: Connection; why: ReplaceReason } | undefined;
  private settings: BalancerSettings | undefined;
  private board: ConnectionBoard | undefined;
  private choose: Choose = chooser("roundRobin");
  private recycler: Recycler<Connection> | undefined;
  private options: ChannelOptions = {};
  private resolutionNote = "";
  private state: State = State.IDLE;
  private updating = false;
  private readonly changed = (connection: Connection) => this.onChange(connection);
  private readonly healthChanged = (connection: Connection) => this.onHealthChange(connection);
  private readonly ejectionChanged = (connection: Connection) => {
    if (connection.ejected) this.onEjected(connection);
  };
  /** pickFirst(): the resolved addresses, in order (what a replacement may go to). */
  private addresses: experimental.SubchannelAddress[] = [];
  /** pickFirst(): addresses whose server said it is not serving since one last served (passed over). */
  private readonly avoid = new Set<string>();
  /** pickFirst(), when no address serves: the timer that looks again, and how many looks in a row found none. */
  private lookAgain: { timer: unknown; looks: number } = { timer: undefined, looks: 0 };
  private limits: StreamLimits | undefined;
  /** How many connections each address has: growth on the pick path, shrinking when idle. */
  private sizing: PoolSizing | undefined;
  private destroyed = false;
  private readonly sizedPool: SizedPool = {
    serving: () => this.serving,
    drainingAt: (key) => {
      let n = 0;
      for (const c of this.draining) if (c.key === key) n++;
      return n;
    },
    open: (planned) => this.grow(planned),
    retire: (connection) => this.shrink(connection),
  };

  constructor(private readonly helper: experimental.ChannelControlHelper) {}

  /** The balancer's time and timers: its board's (a fake one in tests). */
  private get clock(): Clock {
    return this.board?.clock ?? systemClock;
  }

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
    this.destroyed = true;
    this.stopLooking();
    this.recycler?.stop();
    this.sizing?.stop();
    this.limits?.stop();
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
    const sizes = new Map<string, number>();
    for (const c of this.serving) sizes.set(c.key, (sizes.get(c.key) ?? 0) + 1);
    return this.all().map((connection) => connection.stats(now, sizes.get(connection.key) ?? 0));
  }

  private all(): Connection[] {
    return [...this.serving, ...(this.replacing ? [this.replacing.next] : []), ...this.draining];
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
    for (const connection of this.all()) {
      connection.health = this.newHealth(connection);
      connection.checkHealth(settings.healthCheck, this.clock, this.healthChanged);
    }
    this.choose = chooser(settings.pick);
    this.limits?.stop();
    this.limits = new StreamLimits(
      settings.streamsPerConnection,
      settings.probeStreamLimit,
      (key) => this.learned(key),
      this.board?.streamLimitProbe,
      (key) => this.serving.some((c) => c.key === key && c.state === State.READY),
      this.clock,
    );
    for (const c of this.all()) c.setStreamLimit(this.limits.of(c.key, c.endpoint));
    this.sizing?.stop();
    this.sizing = new PoolSizing(settings, this.sizedPool, this.clock);
    this.sizing.wake();
    this.recycler?.stop();
    this.recycler =
      settings.maxConnectionAgeMs === undefined
        ? undefined
        : new Recycler(settings.maxConnectionAgeMs, (connection) => this.recycle(connection), this.clock);
    if (this.recycler) for (const c of this.serving) if (c.state === State.READY) this.recycler.track(c);
  }

  /** The connections the new endpoint list needs, keeping those still wanted. */
  private reconcile(endpoints: readonly Endpoint[]): Connection[] {
    const { mode, min, max } = this.settings!;
    if (mode === "pickFirst") {
      // One connection over every address, in resolver order.
      const endpoint = { addresses: endpoints.flatMap((e) => e.addresses) };
      this.addresses = endpoint.addresses;
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
      // An adaptive pool keeps the size its calls gave it.
      wanted.push(...existing.slice(0, max));
      for (const extra of existing.slice(max)) this.retire(extra);
      for (let i = existing.length; i < min; i++) wanted.push(this.open(endpoint));
    }
    for (const [key, gone] of byEndpoint) {
      for (const connection of gone) this.retire(connection);
      this.limits?.forget(key);
    }
    return wanted;
  }

  private open(endpoint: Endpoint): Connection {
    const connection = this.make(endpoint, "serving");
    this.limits!.connecting(connection.key, endpoint);
    connection.startConnecting();
    return connection;
  }

  private make(endpoint: Endpoint, role: "serving" | "replacement"): Connection {
    const connection = new Connection(endpoint, this.helper, this.options, this.resolutionNote, this.changed, role);
    connection.setStreamLimit(this.limits!.of(connection.key, endpoint));
    connection.health = this.newHealth(connection);
    connection.checkHealth(this.settings!.healthCheck, this.clock, this.healthChanged);
    connection.ejectionChanged = this.ejectionChanged;
    return connection;
  }

  /**
   * Out of the serving set: it drains, and stops counting towards its age.
   * With `graceMs`, the calls still on it then are cancelled.
   */
  private retire(connection: Connection, graceMs?: number): void {
    this.recycler?.untrack(connection);
    if (this.replacing?.old === connection) {
      const { why } = this.replacing;
      this.abandonReplacement();
      if (why === "age") this.recycler?.finished();
    }
    connection.drain(graceMs, () => this.board?.cancelCallsOn(connection.route.connection), this.clock);
    if (!connection.isClosed) this.draining.add(connection);
  }

  private onChange(connection: Connection): void {
    if (connection.isDraining) {
      if (connection.isClosed) {
        this.draining.delete(connection);
        this.sizing?.closed(connection);
      }
      return;
    }
    // A connection that became ready (new, or back after its server was down) has its server's limit learned.
    if (connection.state === State.READY && connection.previousState !== State.READY) {
      this.limits?.ready(connection.key, connection.endpoint);
    } else if (connection.previousState === State.READY && connection.state !== State.READY) {
      this.limits?.down(connection.key);
    }
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

  /** How a connection's backend answers, as that connection sees it; kept across its reconnects. */
  private newHealth(connection: Connection): BackendHealth {
    const { clock } = this;
    return new BackendHealth(
      this.settings?.failureAccrual ?? false,
      Math.random,
      () => {
        this.board?.events?.ejected(connection.backend);
        this.onEjected(connection);
      },
      () => clock.now(),
    );
  }

  // --- Client-side max connection age ------------------------------------

  private recycle(old: Connection): void {
    if (!this.serving.includes(old) || old.state !== State.READY) {
      this.recycler?.finished();
      return;
    }
    // One old connection per address at a time: while long streams keep the last one open, this one waits.
    // pickFirst(): not while it is moving off a server that is not serving.
    if ([...this.draining].some((c) => c.key === old.key) || this.replacing) {
      this.recycler?.failed(old, RECYCLE_RETRY_MS);
      return;
    }
    // The replacement takes the old one's place: the pool's size is unchanged.
    const next = this.make(this.settings?.mode === "pickFirst" ? this.candidates() : old.endpoint, "replacement");
    this.replacing = { old, next, why: "age" };
    next.startConnecting();
  }

  private onReplacementChange(next: Connection): void {
    const { old, why } = this.replacing!;
    if (next.state === State.READY) {
      // Its server's first health answer tells whether it may take over.
      if (next.awaitingHealth) return;
      // Its server is not serving: a move off a server not serving goes on to the next address; a
      // recycle keeps the old one while it serves (behind an L4 balancer the new one met another
      // server) and tries again later. A recycle of a connection not serving either goes ahead.
      if (next.notServing && (why === "health" || old.usable)) {
        this.abandonReplacement();
        if (this.settings?.mode === "pickFirst") this.avoid.add(next.backend);
        if (why === "health") {
          this.search(old);
          this.recalculate();
        } else {
          this.recycler?.failed(old, RECYCLE_RETRY_MS);
        }
        return;
      }
      // Ready (and healthy) before the old one stops taking calls: swap, then let it drain.
      this.replacing = undefined;
      next.promote();
      this.serving = this.serving.map((c) => (c === old ? next : c));
      this.retire(old, this.settings?.maxConnectionAgeGraceMs);
      if (why === "age") this.board?.events?.recycled(old.backend);
      this.recycler?.track(next);
      if (why === "age") this.recycler?.finished();
      else this.found();
      this.helper.requestReresolution(); // a recycle also looks for new backends
      this.recalculate();
    } else if (next.state === State.TRANSIENT_FAILURE) {
      this.abandonReplacement();
      if (why === "health") {
        // No address left answers: calls stay on the old one until one serves, or a later look finds one.
        this.lookLater(old);
        this.recalculate();
      } else if (this.serving.includes(old)) {
        // The old one serves on; its recycle is tried again a little later.
        this.recycler?.failed(old, RECYCLE_RETRY_MS);
      } else {
        this.recycler?.finished();
      }
    }
  }

  // --- Health -------------------------------------------------------------

  /** A connection's server changed what its health says (or first answered). */
  private onHealthChange(connection: Connection): void {
    if (this.destroyed || connection.isDraining) return;
    // Its server may be on its way out (a drain): look for backends again, as a dropped connection does.
    if (connection.notServing) this.helper.requestReresolution();
    if (this.replacing?.next === connection) {
      this.onReplacementChange(connection);
      return;
    }
    if (this.settings?.mode === "pickFirst" && connection === this.serving[0]) this.followHealth(connection);
    this.recalculate();
  }

  /**
   * Failure accrual (or outlier detection) took a connection's backend out.
   * The picks of every strategy pass over it while another connection suits;
   * `pickFirst()` has no other, so it moves to the next address, as off a
   * server not serving.
   */
  private onEjected(connection: Connection): void {
    if (this.destroyed || this.settings?.mode !== "pickFirst" || connection !== this.serving[0]) return;
    if (this.replacing?.why === "health") return; // moving already
    if (this.replacing) {
      this.abandonReplacement();
      this.recycler?.failed(connection, RECYCLE_RETRY_MS);
    }
    this.avoid.add(connection.backend);
    this.search(connection);
    this.recalculate();
  }

  /**
   * `pickFirst()`: its one connection follows its server's health. While that
   * server is not serving, a replacement connects to the next address (in
   * resolver order) not known to be not serving, and takes over once its own
   * server says it serves (the old one drains); calls still go to the old
   * one meanwhile (see the class doc). The old connection keeps its Watch: if
   * its server serves again first, the replacement is dropped. When no
   * address is left, calls stay on the old one, and every address is looked
   * at again after a backoff.
   */
  private followHealth(current: Connection): void {
    if (current.notServing) {
      if (this.replacing?.why === "health") return; // moving already
      if (this.replacing) {
        // A recycle under way would reconnect to this server: the move replaces it.
        this.abandonReplacement();
        this.recycler?.failed(current, RECYCLE_RETRY_MS);
      }
      this.avoid.add(current.backend);
      this.search(current);
    } else if (current.usable) {
      if (this.replacing?.why === "health") this.abandonReplacement();
      this.found();
    }
  }

  /** `pickFirst()`: a replacement for `old`, to the addresses not passed over; none left: look again later. */
  private search(old: Connection): void {
    const addresses = this.addresses.filter((a) => !this.avoid.has(experimental.subchannelAddressToString(a)));
    if (addresses.length === 0) {
      this.lookLater(old);
      return;
    }
    const next = this.make({ addresses }, "replacement");
    this.replacing = { old, next, why: "health" };
    next.startConnecting();
  }

  /** `pickFirst()`: where a recycle's replacement may go: the addresses not passed over, or all if none is left. */
  private candidates(): Endpoint {
    const addresses = this.addresses.filter((a) => !this.avoid.has(experimental.subchannelAddressToString(a)));
    return { addresses: addresses.length > 0 ? addresses : this.addresses };
  }

  /** `pickFirst()`: its connection's server serves: nothing is passed over any more. */
  private found(): void {
    this.avoid.clear();
    this.stopLooking();
    this.lookAgain.looks = 0;
  }

  /**
   * `pickFirst()`, no address left that serves or answers: look at them all
   * again (but the current one's, whose own Watch tells when it serves) after
   * 1 s, doubling to 30 s while none serves.
   */
  private lookLater(old: Connection): void {
    if (this.lookAgain.timer !== undefined) return;
    const { firstMs, maxMs } = HEALTH_WATCH_RETRY;
    const delay = doubling(firstMs, maxMs, this.lookAgain.looks++);
    this.lookAgain.timer = this.clock.setTimeout(() => {
      this.lookAgain.timer = undefined;
      if (this.destroyed || this.replacing || this.serving[0] !== old || old.usable) return;
      this.avoid.clear();
      if (old.notServing) this.avoid.add(old.backend);
      this.search(old);
      this.recalculate();
    }, delay);
  }

  private stopLooking(): void {
    if (this.lookAgain.timer !== undefined) this.clock.clearTimeout(this.lookAgain.timer);
    this.lookAgain.timer = undefined;
  }

  /** Drops the replacement under way; the caller tells the recycler how that ended. */
  private abandonReplacement(): void {
    const replacement = this.replacing?.next;
    this.replacing = undefined;
    replacement?.close();
  }

  // --- Stream limits ----------------------------------------------------------

  /** A server's limit became known: every connection to it takes it, and held calls are picked again. */
  private learned(key: string): void {
    if (this.destroyed) return;
    for (const c of this.all()) if (c.key === key) c.setStreamLimit(this.limits!.of(key, c.endpoint));
    this.recalculate();
  }

  // --- The pool's size (see pool-sizing.ts) ----------------------------------

  /** The pool grew: the planned connections open. */
  private grow(planned: readonly PlannedConnections[]): void {
    if (this.destroyed) return;
    this.updating = true;
    for (const { endpoint, count } of planned) {
      for (let i = 0; i < count; i++) this.serving.push(this.open(endpoint));
    }
    this.updating = false;
    this.recalculate();
  }

  /** The pool shrank: `victim` leaves the serving set and drains. */
  private shrink(victim: Connection): void {
    this.serving = this.serving.filter((c) => c !== victim);
    this.retire(victim);
    this.recalculate();
  }

  // --- State --------------------------------------------------------------

  private recalculate(): void {
    // Ready, and healthy: a connection whose server is not serving takes no new calls.
    const ready = this.serving.filter((c) => c.usable);
    this.sizing?.newPicker();
    const notServing = ready.length > 0 ? [] : this.serving.filter((c) => c.notServing);
    if (ready.length > 0) {
      this.update(State.READY, new BalancedPicker(ready, this.choose, this.sizing!.whenFull), null);
    } else if (this.serving.some((c) => c.awaitingHealth)) {
      // A connection about to say whether it serves (one round trip): calls wait for it.
      this.update(State.CONNECTING, new experimental.QueuePicker(this), null);
    } else if (notServing.length > 0) {
      // No server that answers says it serves: calls go to those anyway, rather
      // than fail (see the class doc: a draining server still serves, and a
      // client's other connections may be reconnecting).
      this.update(State.READY, new BalancedPicker(notServing, this.choose, this.sizing!.whenFull), null);
    } else if (this.serving.some((c) => c.state === State.CONNECTING) || this.replacing?.why === "health") {
      this.update(State.CONNECTING, new experimental.QueuePicker(this), null);
    } else if (this.serving.some((c) => c.state === State.TRANSIENT_FAILURE)) {
      this.report(State.TRANSIENT_FAILURE, NO_CONNECTION_DETAILS);
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
