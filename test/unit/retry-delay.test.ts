import { ClientError, Status } from "nice-grpc-common";
import { describe, expect, test } from "vitest";
import type { MethodInfo } from "../../src/call/method.js";
import { isRetryable, PUSHBACK_TRAILER, retryDelay } from "../../src/call/retry.js";
import type { ResolvedRetrySettings } from "../../src/call/retry-settings.js";

// When a failed attempt is retried, and after how long: the call's options
// over the client's settings, the method's idempotency, the server's pushback.

const method = (idempotent: boolean) => ({ name: "m", path: "/s/M", idempotent }) as MethodInfo;
const client: ResolvedRetrySettings = {
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 1_000,
  retryMaxAttempts: 3,
  retryableStatuses: [Status.UNAVAILABLE],
};
const unavailable = new ClientError("/s/M", Status.UNAVAILABLE, "down");

describe("retryDelay", () => {
  test("nothing is retried with retries off, or a method that is not idempotent unless the call asks", () => {
    expect(retryDelay(unavailable, 0, method(true), {}, false)).toBeUndefined();
    expect(retryDelay(unavailable, 0, method(true), { retry: true }, false)).toBeUndefined();
    expect(retryDelay(unavailable, 0, method(false), {}, client)).toBeUndefined();
    expect(retryDelay(unavailable, 0, method(false), { retry: true }, client)).toBeGreaterThan(0);
    expect(retryDelay(unavailable, 0, method(true), { retry: false }, client)).toBeUndefined();
  });

  test("retries after the first attempt, up to retryMaxAttempts (the call's over the client's)", () => {
    expect(retryDelay(unavailable, 2, method(true), {}, client)).toBeGreaterThan(0);
    expect(retryDelay(unavailable, 3, method(true), {}, client)).toBeUndefined();
    expect(retryDelay(unavailable, 0, method(true), { retryMaxAttempts: 0 }, client)).toBeUndefined();
    expect(retryDelay(unavailable, 4, method(true), { retryMaxAttempts: 5 }, client)).toBeGreaterThan(0);
  });

  test("only retryable codes; a reset for the header block (metadata too large) never", () => {
    const internal = new ClientError("/s/M", Status.INTERNAL, "x");
    expect(retryDelay(internal, 0, method(true), {}, client)).toBeUndefined();
    expect(retryDelay(internal, 0, method(true), { retryableStatuses: [Status.INTERNAL] }, client)).toBeGreaterThan(0);
    const reset = new ClientError("/s/M", Status.UNAVAILABLE, "Received RST_STREAM with code 9");
    expect(retryDelay(reset, 0, method(true), {}, client)).toBeUndefined();
  });

  test("exponential backoff with equal jitter: between half and all of min(max, 2^attempt × base)", () => {
    for (let i = 0; i < 50; i++) {
      const first = retryDelay(unavailable, 0, method(true), {}, client)!;
      expect(first).toBeGreaterThanOrEqual(50);
      expect(first).toBeLessThanOrEqual(100);
      const third = retryDelay(unavailable, 2, method(true), {}, client)!;
      expect(third).toBeGreaterThanOrEqual(200);
      expect(third).toBeLessThanOrEqual(400);
      const capped = retryDelay(unavailable, 2, method(true), { retryMaxAttempts: 9, retryMaxDelayMs: 300 }, client)!;
      expect(capped).toBeGreaterThanOrEqual(150);
      expect(capped).toBeLessThanOrEqual(300);
      const based = retryDelay(unavailable, 1, method(true), { retryBaseDelayMs: 10 }, client)!;
      expect(based).toBeGreaterThanOrEqual(10);
      expect(based).toBeLessThanOrEqual(20);
    }
  });

  test("a server's pushback sets the delay; a bad or out-of-range one means no retry", () => {
    const delay = (pushback: string) => retryDelay(unavailable, 0, method(true), {}, client, pushback);
    expect(PUSHBACK_TRAILER).toBe("grpc-retry-pushback-ms");
    expect(delay("0")).toBe(0);
    expect(delay("1234")).toBe(1234);
    expect(delay("2147483647")).toBe(2_147_483_647);
    expect(delay("2147483648")).toBeUndefined(); // beyond a timer's range
    expect(delay("12345678901")).toBeUndefined();
    expect(delay("-1")).toBeUndefined();
    expect(delay("12a")).toBeUndefined();
    expect(delay("a12")).toBeUndefined();
    expect(delay("")).toBeUndefined();
  });
});

describe("isRetryable", () => {
  test("the call's codes, else the client's, else none", () => {
    expect(isRetryable(unavailable, {}, client)).toBe(true);
    expect(isRetryable(unavailable, { retryableStatuses: [Status.INTERNAL] }, client)).toBe(false);
    expect(isRetryable(unavailable, {}, false)).toBe(false);
    expect(isRetryable(unavailable, { retryableStatuses: [Status.UNAVAILABLE] }, false)).toBe(true);
  });
});
