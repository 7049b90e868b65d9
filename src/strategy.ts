import { DEFAULT_PICK, MAX_POOL_SIZE } from "./defaults.js";
import { InvalidOptionError } from "./errors.js";

/**
 * How a pool chooses the member channel for each call.
 * - `"roundRobin"`: members in turn.
 * - `"p2c"`: the power of two choices: of two members drawn at random, the one
 *   with fewer calls in flight (as the Finagle, Linkerd and Bigtable clients do).
 */
export type PickPolicy = "roundRobin" | "p2c";

/** One connection; on loss, re-resolve and connect to the next address. */
export interface PickFirstStrategy {
  readonly kind: "pickFirst";
}

/** One connection per resolved address; calls spread over them in turn. */
export interface RoundRobinStrategy {
  readonly kind: "roundRobin";
}

/** `size` separate TCP connections per resolved address; calls spread over all. */
export interface PoolStrategy {
  readonly kind: "pool";
  /** Connections per resolved address. */
  readonly size: number;
  /** How each call picks a connection. */
  readonly pick: PickPolicy;
}

export type Strategy = PickFirstStrategy | RoundRobinStrategy | PoolStrategy;

/** The names accepted by the `strategy` option in place of a strategy value. */
export type StrategyName = Strategy["kind"];

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
 * The default strategy, and the right one for many end-user clients.
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
 * `size` distinct TCP connections per resolved address, calls spread over all
 * of them. Behind a single-IP L4 load balancer, each connection may land on a
 * different backend, so the load spreads over the backends too.
 *
 * @param size connections per resolved address, an integer from 1 to 1024.
 */
export function pool(size: number, options: PoolOptions = {}): PoolStrategy {
  return { kind: "pool", size: checkSize(size, "size"), pick: checkPick(options.pick ?? DEFAULT_PICK) };
}

function checkSize(size: unknown, option: string): number {
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > MAX_POOL_SIZE) {
    throw new InvalidOptionError(option, size, `expected an integer from 1 to ${MAX_POOL_SIZE}`);
  }
  return size;
}

function checkPick(pick: unknown): PickPolicy {
  if (pick !== "roundRobin" && pick !== "p2c") {
    throw new InvalidOptionError("pick", pick, `expected "roundRobin" or "p2c"`);
  }
  return pick;
}

/**
 * The strategy part of a client's options: a strategy value, or its name with
 * `size` (and `pick`) for `"pool"`.
 */
export type StrategyOptions =
  | {
      /**
       * How calls spread over servers: `pickFirst()`, `roundRobin()`, `pool(n)`,
       * or a name (`"pool"` then needs `size`).
       * @default pickFirst()
       */
      strategy?: Strategy | "pickFirst" | "roundRobin";
      size?: undefined;
      pick?: undefined;
    }
  | {
      strategy: "pool";
      /** Connections per resolved address, with `strategy: "pool"`. Required. */
      size: number;
      /**
       * How each call picks a connection, with `strategy: "pool"`.
       * @default "p2c"
       */
      pick?: PickPolicy;
    };

/** Turns the `strategy` / `size` / `pick` options into one validated strategy. */
export function resolveStrategy(options: StrategyOptions): Strategy {
  const { strategy, size, pick } = options as { strategy?: unknown; size?: unknown; pick?: unknown };
  if (strategy === "pool") {
    if (size === undefined) {
      throw new InvalidOptionError(
        "size",
        size,
        `expected a pool size with strategy "pool" (or use strategy: pool(n))`,
      );
    }
    return pool(checkSize(size, "size"), pick === undefined ? {} : { pick: checkPick(pick) });
  }
  if (size !== undefined) {
    throw new InvalidOptionError("size", size, `expected no size: it is only allowed with strategy "pool"`);
  }
  if (pick !== undefined) {
    throw new InvalidOptionError("pick", pick, `expected no pick: it is only allowed with strategy "pool"`);
  }
  if (strategy === undefined || strategy === "pickFirst") return pickFirst();
  if (strategy === "roundRobin") return roundRobin();
  if (isStrategy(strategy)) return strategy.kind === "pool" ? pool(strategy.size, { pick: strategy.pick }) : strategy;
  throw new InvalidOptionError(
    "strategy",
    strategy,
    `expected pickFirst(), roundRobin(), pool(n), or one of "pickFirst", "roundRobin", "pool"`,
  );
}

function isStrategy(value: unknown): value is Strategy {
  if (typeof value !== "object" || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === "pickFirst" || kind === "roundRobin" || kind === "pool";
}
