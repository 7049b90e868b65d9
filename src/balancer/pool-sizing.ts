import { type experimental, connectivityState as State } from "@grpc/grpc-js";
import { type Clock, systemClock } from "../clock.js";
import type { WhenFull } from "./balanced-picker.js";
import type { Connection } from "./connection.js";

type Endpoint = experimental.Endpoint;

/** Connections to open at an address, decided on the pick path. */
export interface PlannedConnections {
  readonly endpoint: Endpoint;
  readonly count: number;
}

/** What pool sizing sees of the balancer, and what it asks of it. */
export interface SizedPool {
  /** The connections serving now, every address. */
  serving(): readonly Connection[];
  /** Connections to `key` draining (sockets still open): `max` bounds them too. */
  drainingAt(key: string): number;
  /** Opens the planned connections (the pool grows). */
  open(planned: readonly PlannedConnections[]): void;
  /** Takes `connection` out of the serving set and drains it (the pool shrinks). */
  retire(connection: Connection): void;
}

/** The bounds of the pool, per resolved address. */
export interface PoolBounds {
  readonly min: number;
  readonly max: number;
  /** How long an address's calls must fit in one connection fewer before one closes, ms. */
  readonly idleMs: number;
}

/** Looks per idle period: a peak between two looks is never missed (peaks are kept), a quiet period is seen within a quarter of it. */
const LOOKS_PER_IDLE_PERIOD = 4;

/**
 * @internal
 * The pool's size, in one place: how many connections each resolved address
 * has, between `min` and `max` (a fixed pool: `min` = `max`).
 *
 * - **Growth**, on the pick path: when the connection a call was picked for
 *   is at its stream limit and no ready connection has room, an adaptive pool
 *   holds the call for a connection on its way (grpc-js picks it again when
 *   that one is ready, or fails), opening one if none is coming: the call
 *   waits for a connection, not behind a server's stream limit, where a long
 *   call or stream would keep it. With no room anywhere and no connection to
 *   open (every address at `max`), the least busy connection takes it and
 *   HTTP/2 queues it.
 * - **Shrinking**, slowly: an address loses one connection once its calls in
 *   flight have fitted in one connection fewer, at every look, for `idleMs`;
 *   then the period starts again, and nothing more is taken while that
 *   connection drains. It looks only while some address is above `min`; its
 *   timer never keeps the process alive.
 */
export class PoolSizing {
  /** Connections to open per address, decided on the pick path and opened a microtask later. */
  private readonly planned = new Map<string, { endpoint: Endpoint; count: number }>();
  /** Calls held, per address, for connections on their way (since the last picker: grpc-js picks them again on each). */
  private readonly held = new Map<string, number>();
  /** Connections draining because the pool shrank (one per address at most). */
  private readonly shrinking = new Set<Connection>();
  private readonly fitSince = new Map<string, number>();
  private timer: unknown;
  private stopped = false;

  constructor(
    private readonly bounds: PoolBounds,
    private readonly pool: SizedPool,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Whether the pool grows and shrinks (an adaptive pool), or keeps `min` = `max` connections per address. */
  get adaptive(): boolean {
    return this.bounds.max > this.bounds.min;
  }

  /** Where a call goes when the connection it was picked for is at its limit (see the class doc). */
  readonly whenFull: WhenFull = (chosen, ready) => this.roomFor(chosen, ready);

  /** A new picker was handed to grpc-js: it picks every held call again, which counts them anew. */
  newPicker(): void {
    this.held.clear();
  }

  /** A connection closed (one drained for size, among others). */
  closed(connection: Connection): void {
    this.shrinking.delete(connection);
  }

  /** The pool may be above its minimum: start looking, if not already. */
  wake(): void {
    if (this.adaptive && this.timer === undefined && !this.stopped) this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.fitSince.clear();
    this.planned.clear();
  }

  // --- Growth -----------------------------------------------------------------

  private roomFor(chosen: Connection, ready: readonly Connection[]): Connection | undefined {
    let best: Connection | undefined;
    let leastBusy = chosen;
    for (const c of ready) {
      if (c.load < leastBusy.load) leastBusy = c;
      if (c.hasRoom() && (best === undefined || c.load < best.load)) best = c;
    }
    if (best || !this.adaptive) return best ?? leastBusy;
    const keys = this.keys();
    const waitFor =
      (this.comingRoom(chosen.key) > 0 ? chosen.key : keys.find((k) => this.comingRoom(k) > 0)) ??
      this.planGrowth(chosen, keys);
    if (waitFor === undefined) return leastBusy;
    this.held.set(waitFor, (this.held.get(waitFor) ?? 0) + 1);
    return undefined;
  }

  /**
   * Plans one more connection, to the address with the fewest connections
   * (`chosen`'s on a tie) that is below `max` and has none failing (it may be
   * down) or not serving; returns that address, or undefined when none may grow.
   */
  private planGrowth(chosen: Connection, keys: readonly string[]): string | undefined {
    const { max } = this.bounds;
    let target: { key: string; endpoint: Endpoint; size: number } | undefined;
    for (const key of [chosen.key, ...keys.filter((k) => k !== chosen.key)]) {
      const group = this.pool.serving().filter((c) => c.key === key);
      // Draining connections are sockets too: `max` bounds them all.
      const size = group.length + (this.planned.get(key)?.count ?? 0) + this.pool.drainingAt(key);
      // Not towards a backend that is down, or that says it is not serving.
      if (size >= max || group.length === 0 || group.some((c) => c.state === State.TRANSIENT_FAILURE || c.notServing)) {
        continue;
      }
      if (!target || size < target.size) target = { key, endpoint: group[0]!.endpoint, size };
    }
    if (!target) return undefined;
    // Opened a microtask later: a new connection reports its state at once,
    // and a new picker must not be handed to grpc-js in the middle of a pick.
    if (this.planned.size === 0) queueMicrotask(() => this.grow());
    const planned = this.planned.get(target.key);
    this.planned.set(target.key, { endpoint: target.endpoint, count: (planned?.count ?? 0) + 1 });
    return target.key;
  }

  /** Opens the planned connections. */
  private grow(): void {
    if (this.stopped) return;
    const planned = [...this.planned.values()];
    this.planned.clear();
    this.pool.open(planned);
    this.wake();
  }

  /** Calls that connections on their way to `key` (connecting, or planned) could still take. */
  private comingRoom(key: string): number {
    let coming = this.planned.get(key)?.count ?? 0;
    let limit = 0;
    for (const c of this.pool.serving()) {
      if (c.key !== key) continue;
      limit = c.callLimit;
      if (c.state === State.CONNECTING || c.state === State.IDLE || c.awaitingHealth) coming++;
    }
    return coming * limit - (this.held.get(key) ?? 0);
  }

  private keys(): string[] {
    return [...new Set(this.pool.serving().map((c) => c.key))];
  }

  // --- Shrinking --------------------------------------------------------------

  private arm(): void {
    this.timer = this.clock.setTimeout(() => this.look(), Math.max(1, this.bounds.idleMs / LOOKS_PER_IDLE_PERIOD));
  }

  private look(): void {
    this.timer = undefined;
    const now = this.clock.now();
    const seen = new Set<string>();
    for (const key of this.keys()) {
      const group = this.pool.serving().filter((c) => c.key === key);
      if (group.length <= this.bounds.min) continue;
      seen.add(key);
      const peakCalls = group.reduce((sum, c) => sum + c.takePeak(), 0);
      const limit = Math.min(...group.map((c) => c.callLimit));
      const fits = peakCalls <= (group.length - 1) * limit;
      if (!fits || [...this.shrinking].some((c) => c.key === key)) {
        this.fitSince.delete(key);
        continue;
      }
      const since = this.fitSince.get(key);
      if (since === undefined) {
        this.fitSince.set(key, now);
      } else if (now - since >= this.bounds.idleMs) {
        this.fitSince.delete(key);
        this.shrink(group);
      }
    }
    for (const key of this.fitSince.keys()) if (!seen.has(key)) this.fitSince.delete(key);
    if (seen.size > 0) this.arm();
  }

  /** Drains one connection of an address: one not ready if any, else one not serving, else the one with the fewest calls. */
  private shrink(group: readonly Connection[]): void {
    const victim =
      group.find((c) => c.state !== State.READY) ??
      group.find((c) => c.notServing) ??
      group.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    this.shrinking.add(victim);
    this.pool.retire(victim);
    if (victim.isClosed) this.shrinking.delete(victim);
  }
}
