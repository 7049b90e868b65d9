import { type Clock, callClock } from "../clock.js";
import { BUDGET_WINDOW_MS, HEDGE_DELAY_FLOOR_MS, HEDGE_DELAY_PERCENTILE } from "../defaults.js";
import type { EngineCallOptions } from "./call-types.js";
import { HedgeDelay } from "./hedge-delay.js";
import { type ResolvedHedging, resolveHedging } from "./hedging-settings.js";
import type { MethodInfo } from "./method.js";
import { RetryBudget } from "./retry-budget.js";
import type { ResolvedRetryBudget, ResolvedRetrySettings } from "./retry-settings.js";

/**
 * @internal
 * How one client's calls try again: its retry settings and retry budget, its
 * hedging and hedge budget, and each method's learned hedge delay. One per
 * client, shared by its methods; made once, from resolved options.
 */
export class CallPolicy {
  readonly retryBudget: RetryBudget | undefined;
  readonly hedgeBudget: RetryBudget;
  private readonly delays = new Map<string, HedgeDelay>();

  constructor(
    readonly retry: ResolvedRetrySettings | false,
    budget: ResolvedRetryBudget | false,
    private readonly hedging: ResolvedHedging | false,
    /** The clock of the client's calls: their waits, hedge timers and budget windows. */
    readonly clock: Clock = callClock,
  ) {
    const now = () => clock.now();
    this.retryBudget =
      budget === false ? undefined : new RetryBudget(budget.ratio, budget.minPerSecond, BUDGET_WINDOW_MS, now);
    // A call may ask to hedge on a client without `hedging`: that budget is the default one.
    this.hedgeBudget = new RetryBudget(hedging ? hedging.budget : 0.1, 0, BUDGET_WINDOW_MS, now);
  }

  /**
   * Takes one hedge from the budgets: the hedge budget (hedges alone) and the
   * retry budget, which hedges share with retries (as Finagle's backup
   * requests do), so an outage costs the servers the calls plus one budget,
   * not two. False, and nothing taken, when either is spent.
   */
  tryHedge(): boolean {
    if (!this.hedgeBudget.hasRoom() || (this.retryBudget && !this.retryBudget.hasRoom())) return false;
    this.hedgeBudget.take();
    this.retryBudget?.take();
    return true;
  }

  /** The hedging of a call of `method` with `options`, or undefined for none. */
  hedgingFor(method: MethodInfo, options: EngineCallOptions): ResolvedHedging | undefined {
    const { hedge } = options;
    if (hedge === undefined) return this.hedging && method.idempotent ? this.hedging : undefined;
    if (hedge === false) return undefined;
    return resolveHedging("hedge", hedge, this.hedging || undefined, true);
  }

  /** The learned "auto" delay of `method`. */
  hedgeDelay(method: MethodInfo): HedgeDelay {
    let delay = this.delays.get(method.path);
    if (!delay) {
      delay = new HedgeDelay(HEDGE_DELAY_PERCENTILE, HEDGE_DELAY_FLOOR_MS);
      this.delays.set(method.path, delay);
    }
    return delay;
  }
}
