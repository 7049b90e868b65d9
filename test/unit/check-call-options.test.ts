import { Metadata, Status } from "nice-grpc-common";
import { describe, expect, test } from "vitest";
import { checkCallOptions } from "../../src/call/check-call-options.js";
import { failedStream } from "../../src/call/failed-stream.js";
import { InvalidOptionError } from "../../src/errors.js";

/** The option an InvalidOptionError names, or "ok". */
function outcome(options: unknown, where?: string, strict?: boolean): string {
  try {
    checkCallOptions(options, where, strict);
    return "ok";
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return (error as InvalidOptionError).option;
  }
}

describe("call options: each row an input and the option named (or ok)", () => {
  const year = 365.25 * 24 * 3_600_000;
  test.each([
    [{}, "ok"],
    [{ deadline: 5_000 }, "ok"],
    [{ deadline: -5 }, "ok"], // already past: DEADLINE_EXCEEDED, not a crash
    [{ deadline: 100 * year }, "ok"],
    [{ deadline: 100 * year + 1 }, "deadline"],
    [{ deadline: new Date(Date.now() + 60_000) }, "ok"],
    [{ deadline: new Date(Number.NaN) }, "deadline"],
    [{ deadline: new Date(Date.now() + 101 * year) }, "deadline"],
    [{ deadline: Number.NaN }, "deadline"],
    [{ deadline: Number.POSITIVE_INFINITY }, "deadline"],
    [{ deadline: "5000" }, "deadline"],
    [{ deadline: undefined }, "ok"],
    [{ signal: new AbortController().signal }, "ok"],
    [{ signal: {} }, "signal"],
    [{ metadata: Metadata({ a: "1" }) }, "ok"],
    [{ metadata: { a: "1" } }, "metadata"],
    [{ onHeader: () => {} }, "ok"],
    [{ onHeader: "log" }, "onHeader"],
    [{ onTrailer: 1 }, "onTrailer"],
    [{ onRetryableError: {} }, "onRetryableError"],
    [{ retry: true }, "ok"],
    [{ retry: "yes" }, "retry"],
    [{ waitForReady: 1 }, "waitForReady"],
    [{ retryBaseDelayMs: 10 }, "ok"],
    [{ retryBaseDelayMs: -1 }, "retryBaseDelayMs"],
    [{ retryMaxDelayMs: 1.5 }, "retryMaxDelayMs"],
    [{ retryMaxAttempts: Number.POSITIVE_INFINITY }, "ok"],
    [{ retryMaxAttempts: -1 }, "retryMaxAttempts"],
    [{ retryableStatuses: [Status.UNAVAILABLE] }, "ok"],
    [{ retryableStatuses: [99] }, "retryableStatuses"],
    [{ retryableStatuses: Status.UNAVAILABLE }, "retryableStatuses"],
    [{ hedge: true }, "ok"],
    [{ hedge: false }, "ok"],
    [{ hedge: { delayMs: 10 } }, "ok"],
    [{ hedge: { delayMs: "soon" } }, "hedge.delayMs"],
    [{ hedge: "yes" }, "hedge"],
    [{ dedline: 5 }, "dedline"],
  ])("%o → %s", (options, expected) => {
    expect(outcome(options)).toBe(expected);
  });

  test("not an object", () => {
    expect(outcome(null)).toBe("call options");
    expect(outcome([1])).toBe("call options");
    expect(outcome(5, "defaultCallOptions.sayHello.")).toBe("defaultCallOptions.sayHello");
  });

  test("where prefixes every name; unknown names pass without strict keys (middleware's own options)", () => {
    expect(outcome({ deadline: "x" }, "defaultCallOptions.*.")).toBe("defaultCallOptions.*.deadline");
    expect(outcome({ logLevel: "debug" }, "", false)).toBe("ok");
    expect(outcome({ logLevel: "debug", deadline: Number.NaN }, "", false)).toBe("deadline");
  });

  test("the message names the option, what is expected, and the value", () => {
    try {
      checkCallOptions({ dedline: 5 });
    } catch (error) {
      expect((error as Error).message).toContain('did you mean "deadline"');
    }
    try {
      checkCallOptions({ deadline: Number.NaN });
    } catch (error) {
      expect((error as Error).message).toMatch(/Date or a number of ms.*100 years.*NaN/);
    }
  });
});

describe("call options: each message in full", () => {
  const message = (options: unknown) => {
    try {
      checkCallOptions(options);
    } catch (error) {
      return (error as Error).message.replace(/^balanced-grpc: /, "");
    }
    return "ok";
  };
  test.each([
    [null, `invalid option "call options": expected an object of call options, got null`],
    [{ signal: 1 }, `invalid option "signal": expected an AbortSignal, got 1`],
    [{ metadata: 1 }, `invalid option "metadata": expected a Metadata (from balanced-grpc or nice-grpc), got 1`],
    [{ onHeader: 1 }, `invalid option "onHeader": expected a function, got 1`],
    [{ retry: 1 }, `invalid option "retry": expected true or false, got 1`],
    [{ waitForReady: "yes" }, `invalid option "waitForReady": expected true or false, got 'yes'`],
    [{ retryMaxDelayMs: -1 }, /^invalid option "retryMaxDelayMs": expected a whole number of milliseconds/],
    [{ retryBaseDelayMs: 1.5 }, /^invalid option "retryBaseDelayMs": expected a whole number of milliseconds/],
    [{ retryMaxAttempts: -1 }, /^invalid option "retryMaxAttempts": /],
    [
      { retryableStatuses: [14, 99] },
      /^invalid option "retryableStatuses": expected an array of status codes \(Status.UNAVAILABLE, …\)/,
    ],
    [{ retryableStatuses: 14 }, /^invalid option "retryableStatuses": expected an array of status codes/],
    [{ hedge: { maxHedges: 9 } }, /^invalid option "hedge.maxHedges": /],
    [{ deadline: new Date(Date.now() + 60_000) }, "ok"],
    [{ hedge: true, retryableStatuses: [14], retryMaxDelayMs: 5 }, "ok"],
  ])("%j", (options, expected) => {
    if (typeof expected === "string") expect(message(options)).toBe(expected);
    else expect(message(options)).toMatch(expected);
  });
});

describe("a failed stream", () => {
  test("its first next() rejects with the error, then it is done; return() and throw() end it", async () => {
    const error = new Error("bad options");
    const stream = failedStream(error);
    expect(stream[Symbol.asyncIterator]()).toBe(stream);
    await expect(stream.next()).rejects.toBe(error);
    await expect(stream.next()).resolves.toEqual({ value: undefined, done: true });
    const other = failedStream(error);
    await expect(other.return!()).resolves.toEqual({ value: undefined, done: true });
    await expect(other.next()).resolves.toEqual({ value: undefined, done: true });
    const thrown = failedStream(error);
    await expect(thrown.throw!(new Error("into"))).rejects.toThrow("into");
    await expect(thrown.next()).resolves.toMatchObject({ done: true });
  });
});
