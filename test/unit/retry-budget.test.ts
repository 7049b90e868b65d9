import { describe, expect, test } from "vitest";
import { RetryBudget } from "../../src/call/retry-budget.js";

/** A budget on a clock the test moves. */
function budget(ratio: number, minPerSecond: number) {
  let now = 1_000_000;
  const b = new RetryBudget(ratio, minPerSecond, 10_000, () => now);
  const advance = (ms: number) => {
    now += ms;
  };
  return { b, advance };
}

/** Withdraws until refused; how many went. */
const drain = (b: RetryBudget) => {
  let n = 0;
  while (b.tryWithdraw()) n++;
  return n;
};

describe("retry budget", () => {
  test("ratio of the calls in the window, plus minPerSecond per second the budget has lived, one second's worth at once (at most the window)", () => {
    const { b, advance } = budget(0.2, 10);
    for (let i = 0; i < 100; i++) b.deposit();
    expect(drain(b)).toBe(20 + 10); // 20% of 100 calls + one second's worth at once
    advance(1_000);
    expect(drain(b)).toBe(10); // a second later: 10 more (accrued as it lived)
    advance(20_000);
    // The window moved past every call and retry: the reserve alone, a full window's worth.
    expect(drain(b)).toBe(100);
  });

  test("no minimum: only the ratio", () => {
    const { b } = budget(0.1, 0);
    for (let i = 0; i < 50; i++) b.deposit();
    expect(drain(b)).toBe(5);
    b.deposit();
    b.deposit();
    expect(drain(b)).toBe(0); // 5.2 allowed, 5 spent
  });

  test("an outage: over 30 s of calls that all fail, retries stay within 20% of calls + 10/s", () => {
    const { b, advance } = budget(0.2, 10);
    let calls = 0;
    let retries = 0;
    for (let second = 0; second < 30; second++) {
      for (let i = 0; i < 200; i++) {
        b.deposit();
        calls++;
        // Each call wants 3 retries.
        for (let r = 0; r < 3; r++) if (b.tryWithdraw()) retries++;
        advance(5);
      }
    }
    expect(calls).toBe(6_000);
    expect(retries).toBeLessThanOrEqual(0.2 * calls + 10 * 30);
    expect(retries).toBeGreaterThan(0.15 * calls); // and the budget is spent, not starved
  });
});
