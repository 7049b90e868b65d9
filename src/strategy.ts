import { checkDuration, checkInteger, checkObject, checkOneOf } from "./check.js";
import {
  DEFAULT_PICK,
  DEFAULT_POOL_IDLE_MS,
  DEFAULT_POOL_MAX,
  DEFAULT_POOL_MIN,
  MAX_POOL_SIZE,
  UNLIMITED_STREAMS,
} from "./defaults.js";
import { InvalidOptionError } from "./errors.js";

/**
 * How a pool chooses the connection for each call.
 * - `"p2c"`: the power of two choices: of two connections drawn at random,
 *   the one with fewer calls in flight (as Finagle, Linkerd and Envoy do).
 * - `"roundRobin"`: connections in turn.
 */
export type PickPolicy = "p2c" | "roundRobin";

/** @internal Every pick policy: the one list that validation and the balancer's config use. */
export const PICK_POLICIES = ["p2c", "roundRobin"] as const satisfies readonly PickPolicy[];

/** @internal Every strategy kind: the one list that validation, resolution and the balancer's config use. */
export const STRATEGY_KINDS = ["pickFirst", "roundRobin", "pool"] as const satisfies readonly StrategyName[];

/** One connection; on loss, re-resolve and connect to the next address. */
export interface PickFirstStrategy {
  /** The strategy's name, as the `strategy` option also takes it. */
  readonly kind: "pickFirst";
}

/** One connection per resolved address; calls spread over them in turn. */
export interface RoundRobinStrategy {
  /** The strategy's name, as the `strategy` option also takes it. */
  readonly kind: "roundRobin";
}

/** `size` separate TCP connections per resolved address; each call picks one of all of them. */
export interface PoolStrategy {
  /** The strategy's name, as the `strategy` option also takes it. */
  readonly kind: "pool";
  /** Connections per resolved address. */
  readonly size: number;
  /** How each call picks a connection. */
  readonly pick: PickPolicy;
  /** Streams each connection may carry, when given; else what the server advertises. */
  readonly streamsPerConnection?: number;
}

/**
 * From `min` to `max` TCP connections per resolved address, as many as the
 * calls in flight need: made by `pool()` or `pool({ min, max, ... })`.
 */
export interface AdaptivePoolStrategy {
  /** The strategy's name, as the `strategy` option also takes it. */
  readonly kind: "pool";
  /** No fixed size: the pool sizes itself. */
  readonly size?: undefined;
  /** Fewest connections per resolved address. */
  readonly min: number;
  /** Most connections per resolved address. */
  readonly max: number;
  /** How long an address's calls must fit in one connection fewer before one closes, ms. */
  readonly idleMs: number;
  /** How each call picks a connection. */
  readonly pick: PickPolicy;
  /** Streams each connection may carry, when given; else what the server advertises. */
  readonly streamsPerConnection?: number;
}

/** How a client spreads its calls over servers: what `pickFirst()`, `roundRobin()` and `pool(…)` make. */
export type Strategy = PickFirstStrategy | RoundRobinStrategy | PoolStrategy | AdaptivePoolStrategy;

/** The names accepted by the `strategy` option in place of a strategy value. */
export type StrategyName = Strategy["kind"];

/** Options of every pool: `pool(size, { pick, streamsPerConnection })`; an adaptive pool takes more. */
export interface PoolOptions {
  /**
   * How each call picks a connection of the pool.
   * @default "p2c"
   */
  pick?: PickPolicy;
  /**
   * Concurrent calls (HTTP/2 streams) the servers allow per connection, when
   * you know better than what they advertise (e.g. a proxy in between
   * advertises none, or the client uses TLS and cannot probe). Calls beyond it
   * would wait inside HTTP/2 for a stream to free up.
   * @default undefined (the limit the server advertises; 100 when unknown)
   */
  streamsPerConnection?: number;
}

/** Options of an adaptive pool: `pool({ min, max, ... })`. */
export interface AdaptivePoolOptions extends PoolOptions {
  /**
   * Fewest connections per resolved address, kept however idle the client is.
   * @default 1
   */
  min?: number;
  /**
   * Most connections per resolved address (at least `min`); beyond it, calls
   * queue in HTTP/2 on the least busy connection.
   * @default 16
   */
  max?: number;
  /**
   * How long, ms, an address's calls must have fitted in one connection fewer
   * before the pool closes one (draining it: it takes no new calls and closes
   * when its calls end).
   * @default 30000
   */
  idleMs?: number;
}

/**
 * One TCP connection, to the first reachable address in resolver order; when it
 * drops, the target is re-resolved and the next reachable address is used.
 * The default strategy, and the right one for many light clients.
 */
export function pickFirst(): PickFirstStrategy {
  return { kind: "pickFirst" };
}

/**
 * One connection per resolved address, calls spread over them in turn. For
 * service-to-service calls through a DNS name that lists every backend
 * (a headless service).
 */
export function roundRobin(): RoundRobinStrategy {
  return { kind: "roundRobin" };
}

/**
 * A pool that sizes itself, the recommended strategy for service-to-service
 * calls: per resolved address it keeps from `min` to `max` distinct TCP
 * connections. It opens one more to an address as soon as every connection
 * to it carries as many calls as the server allows (its HTTP/2 stream limit),
 * before a call would have to wait for a stream, and closes one once the
 * address's calls have fitted in one connection fewer for `idleMs`. Each call
 * takes a connection with room (by default the less busy of two drawn at
 * random).
 */
export function pool(options?: AdaptivePoolOptions): AdaptivePoolStrategy;
/**
 * `size` distinct TCP connections per resolved address, no more and no fewer;
 * each call takes one of all of them with room for it (by default the less
 * busy of two drawn at random). Behind a single-IP L4 load balancer, each
 * connection may land on a different backend, so the load spreads over the
 * backends too.
 *
 * @param size - connections per resolved address, an integer from 1 to 1024.
 */
export function pool(size: number, options?: PoolOptions): PoolStrategy;
export function pool(
  sizeOrOptions?: number | AdaptivePoolOptions,
  poolOptions?: PoolOptions,
): PoolStrategy | AdaptivePoolStrategy {
  if (typeof sizeOrOptions === "number" || poolOptions !== undefined) {
    const options = checkObject("pool", poolOptions, "expected pool options { pick, streamsPerConnection }") ?? {};
    for (const name of ["min", "max", "idleMs"]) {
      if (options[name] !== undefined) {
        throw new InvalidOptionError(
          `pool.${name}`,
          options[name],
          "expected none with a fixed size (use pool({ min, max }))",
        );
      }
    }
    return {
      kind: "pool",
      size: checkInteger("size", sizeOrOptions, 1, MAX_POOL_SIZE),
      ...common(options),
    };
  }
  const options = (checkObject(
    "pool",
    sizeOrOptions,
    "expected a size or { min, max, idleMs, pick, streamsPerConnection }",
  ) ?? {}) as AdaptivePoolOptions;
  const min = checkInteger("pool.min", options.min ?? DEFAULT_POOL_MIN, 1, MAX_POOL_SIZE);
  return {
    kind: "pool",
    min,
    max: checkInteger("pool.max", options.max ?? Math.max(DEFAULT_POOL_MAX, min), min, MAX_POOL_SIZE),
    idleMs: checkDuration("pool.idleMs", options.idleMs ?? DEFAULT_POOL_IDLE_MS, 1),
    ...common(options),
  };
}

/** The options a fixed and an adaptive pool share, checked. */
function common(options: PoolOptions): { pick: PickPolicy; streamsPerConnection?: number } {
  const streams = options.streamsPerConnection;
  return {
    pick: checkOneOf("pick", options.pick ?? DEFAULT_PICK, PICK_POLICIES),
    ...(streams === undefined
      ? {}
      : { streamsPerConnection: checkInteger("pool.streamsPerConnection", streams, 1, UNLIMITED_STREAMS) }),
  };
}

/** @internal True for a pool that sizes itself. */
export function isAdaptive(strategy: Strategy): strategy is AdaptivePoolStrategy {
  return strategy.kind === "pool" && strategy.size === undefined;
}

/** @internal True for a value made by {@link pickFirst}, {@link roundRobin} or {@link pool}. */
export function isStrategy(value: unknown): value is Strategy {
  if (typeof value !== "object" || value === null) return false;
  return STRATEGY_KINDS.includes((value as { kind?: unknown }).kind as StrategyName);
}
