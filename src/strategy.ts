import { checkInteger, checkOneOf } from "./check.js";
import { DEFAULT_PICK, MAX_POOL_SIZE } from "./defaults.js";

/**
 * How a pool chooses the connection for each call.
 * - `"p2c"`: the power of two choices: of two connections drawn at random,
 *   the one with fewer calls in flight (as Finagle, Linkerd and Envoy do).
 * - `"roundRobin"`: connections in turn.
 */
export type PickPolicy = (typeof PICK_POLICIES)[number];

/** @internal Every pick policy: the one list that validation and the balancer's config use. */
export const PICK_POLICIES = ["p2c", "roundRobin"] as const;

/** @internal Every strategy kind: the one list that validation, resolution and the balancer's config use. */
export const STRATEGY_KINDS = ["pickFirst", "roundRobin", "pool"] as const;

/** @internal */
export type StrategyKind = (typeof STRATEGY_KINDS)[number];

/** One connection; on loss, re-resolve and connect to the next address. */
export interface PickFirstStrategy {
  readonly kind: "pickFirst";
}

/** One connection per resolved address; calls spread over them in turn. */
export interface RoundRobinStrategy {
  readonly kind: "roundRobin";
}

/** `size` separate TCP connections per resolved address; each call picks one of all of them. */
export interface PoolStrategy {
  readonly kind: "pool";
  /** Connections per resolved address. */
  readonly size: number;
  /** How each call picks a connection. */
  readonly pick: PickPolicy;
}

export type Strategy = PickFirstStrategy | RoundRobinStrategy | PoolStrategy;

/** The names accepted by the `strategy` option in place of a strategy value. */
export type StrategyName = StrategyKind;

/** Options of {@link pool}. */
export interface PoolOptions {
  /**
   * How each call picks a connection of the pool.
   * @default "p2c"
   */
  pick?: PickPolicy;
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
 * `size` distinct TCP connections per resolved address; each call takes one of
 * all of them (by default the less busy of two drawn at random). Behind a
 * single-IP L4 load balancer, each connection may land on a different backend,
 * so the load spreads over the backends too.
 *
 * @param size connections per resolved address, an integer from 1 to 1024.
 */
export function pool(size: number, options: PoolOptions = {}): PoolStrategy {
  return {
    kind: "pool",
    size: checkInteger("size", size, 1, MAX_POOL_SIZE),
    pick: checkOneOf("pick", options.pick ?? DEFAULT_PICK, PICK_POLICIES),
  };
}

/** @internal True for a value made by {@link pickFirst}, {@link roundRobin} or {@link pool}. */
export function isStrategy(value: unknown): value is Strategy {
  if (typeof value !== "object" || value === null) return false;
  return STRATEGY_KINDS.includes((value as { kind?: unknown }).kind as StrategyKind);
}
