import { checkOneOf } from "./check.js";
import { DEFAULT_STRATEGY } from "./defaults.js";
import { InvalidOptionError } from "./errors.js";
import {
  type AdaptivePoolOptions,
  isAdaptive,
  isStrategy,
  type PoolOptions,
  pickFirst,
  pool,
  roundRobin,
  STRATEGY_KINDS,
  type Strategy,
} from "./strategy.js";

/** The options that, besides `strategy`, describe a pool by name. */
const POOL_FIELDS = ["size", "pick", "min", "max", "idleMs", "streamsPerConnection"] as const;

/**
 * @internal
 * The `strategy` option and the pool fields beside it (`size`, `pick`, `min`,
 * …) as one strategy. The strategy is named first: a wrong name is reported
 * as such, not as a misplaced field.
 */
export function resolveStrategy(
  options: { strategy?: unknown } & { [F in (typeof POOL_FIELDS)[number]]?: unknown },
): Strategy {
  const { strategy = DEFAULT_STRATEGY } = options;
  const given = POOL_FIELDS.filter((field) => options[field] !== undefined);
  if (isStrategy(strategy)) {
    const field = given[0];
    if (field) throw new InvalidOptionError(field, options[field], `expected no ${field} with a strategy value`);
    if (strategy.kind !== "pool") return strategy;
    // A value may come from plain JavaScript: check it as pool() would.
    const { pick, streamsPerConnection } = strategy;
    if (isAdaptive(strategy)) {
      const { min, max, idleMs } = strategy;
      return pool({ min, max, idleMs, pick, streamsPerConnection });
    }
    return pool(strategy.size, { pick, streamsPerConnection });
  }
  const name = checkOneOf(
    "strategy",
    strategy,
    STRATEGY_KINDS,
    'pickFirst(), roundRobin(), pool(), pool(n), or one of "pickFirst", "roundRobin", "pool"',
  );
  if (name === "pool") {
    const { size, pick, min, max, idleMs, streamsPerConnection } = options as AdaptivePoolOptions & { size?: unknown };
    if (size === undefined) return pool({ min, max, idleMs, pick, streamsPerConnection });
    return pool(size as number, {
      pick,
      streamsPerConnection,
      ...({ min, max, idleMs } as PoolOptions),
    });
  }
  const field = given[0];
  if (field) {
    throw new InvalidOptionError(
      field,
      options[field],
      `expected no ${field}: it is only allowed with strategy "pool"`,
    );
  }
  return name === "pickFirst" ? pickFirst() : roundRobin();
}
