import { Metadata, status } from "@grpc/grpc-js";
import { beforeEach, describe, expect, test } from "vitest";
import { GreeterDefinition, HelloReply } from "../../generated/helloworld/helloworld.js";
import { RouteGuideDefinition } from "../../generated/routeguide/route_guide.js";
import { methodsOf } from "../../src/call/method.js";
import { unaryCall } from "../../src/call/unary-call.js";
import { DEFAULT_RETRY } from "../../src/defaults.js";
import { avoidedBackends, FakeChannel, nextTurn, policyOf } from "./fake-call.js";
import { FakeClock } from "./fake-clock.js";

// The call engine's ways around trouble, against a fake channel: retries go
// to other backends, the retry budget, server pushback, hedging.

const sayHello = methodsOf(GreeterDefinition).find((m) => m.name === "sayHello")!; // NO_SIDE_EFFECTS
const [getFeature] = methodsOf(RouteGuideDefinition); // no idempotency level
const fast = { ...DEFAULT_RETRY, retryBaseDelayMs: 1, retryMaxDelayMs: 1 };
const reply = (message: string) => Buffer.from(HelloReply.encode({ message }).finish());
/** The calls' clock, moved by each test: timers fire exactly when due, with no real waiting. */
let clock = new FakeClock(Date.now());
beforeEach(() => {
  clock = new FakeClock(Date.now());
});
/** A call policy on the test's clock. */
const policy = (...args: Parameters<typeof policyOf>) => policyOf(args[0], args[1], args[2], clock);

function trailer(entries: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(entries)) metadata.set(k, v);
  return metadata;
}

describe("retries go elsewhere", () => {
  test("each retry's pick passes over every backend an earlier attempt went to", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, {}, policy(fast));
    expect(avoidedBackends(channel.last.metadata!)).toBeUndefined(); // the first attempt goes anywhere
    channel.last.end(status.UNAVAILABLE, "one");
    clock.tick(1);
    expect(channel.calls).toHaveLength(2);
    expect(avoidedBackends(channel.last.metadata!)!).toEqual(["10.0.0.1:1"]);
    channel.last.end(status.UNAVAILABLE, "two");
    clock.tick(1);
    expect(channel.calls).toHaveLength(3);
    expect(avoidedBackends(channel.last.metadata!)!).toEqual(["10.0.0.1:1", "10.0.0.2:1"]);
    channel.last.message(reply("ok"));
    channel.last.end();
    await expect(call).resolves.toEqual({ message: "ok" });
  });

  test("a refused stream's replay passes over the backend that refused it", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, getFeature!, {}, {}, policyOf(false));
    channel.last.refuse();
    await nextTurn();
    expect(avoidedBackends(channel.last.metadata!)!).toEqual(["10.0.0.1:1"]);
    channel.last.message(Buffer.alloc(0));
    channel.last.end();
    await call;
  });
});

describe("retry budget", () => {
  test("a retry the budget refuses fails the call with its attempt's own error; refused-stream replays do not spend it", async () => {
    const channel = new FakeChannel();
    // No reserve, 10%: one call deposits 0.1 — not enough for one retry.
    const budgeted = policy(fast, { ratio: 0.1, minPerSecond: 0 });
    const call = unaryCall(channel, sayHello, {}, {}, budgeted).catch((e: unknown) => e);
    channel.last.refuse(); // a replay: free
    await nextTurn();
    expect(channel.calls).toHaveLength(2);
    channel.last.end(status.UNAVAILABLE, "the attempt's own error");
    await expect(call).resolves.toMatchObject({ code: status.UNAVAILABLE, details: "the attempt's own error" });
    clock.tick(1_000);
    expect(channel.calls).toHaveLength(2);
  });

  test("with budget, the same call retries", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, {}, policy(fast, { ratio: 0.2, minPerSecond: 10 }));
    channel.last.end(status.UNAVAILABLE, "once");
    clock.tick(1);
    expect(channel.calls).toHaveLength(2);
    channel.last.message(reply("ok"));
    channel.last.end();
    await expect(call).resolves.toEqual({ message: "ok" });
  });
});

describe("server pushback (gRFC A6)", () => {
  test("a delay in grpc-retry-pushback-ms is waited instead of the backoff", async () => {
    const channel = new FakeChannel();
    const delays: number[] = [];
    const call = unaryCall(
      channel,
      sayHello,
      {},
      { onRetryableError: (_e, _a, delay) => void delays.push(delay) },
      policy(fast),
    );
    channel.last.listener!.onReceiveStatus({
      code: status.UNAVAILABLE,
      details: "busy",
      metadata: trailer({ "grpc-retry-pushback-ms": "30" }),
    });
    expect(delays).toEqual([30]);
    clock.tick(29);
    expect(channel.calls).toHaveLength(1);
    clock.tick(1);
    expect(channel.calls).toHaveLength(2);
    channel.last.message(reply("ok"));
    channel.last.end();
    await call;
  });

  test.each([
    "-1",
    "soon",
    "",
    "2147483648", // beyond a timer's range: Node would fire it at once
  ])("a negative, malformed or too long pushback (%j) means: do not retry", async (value) => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, {}, policy(fast)).catch((e: unknown) => e);
    channel.last.listener!.onReceiveStatus({
      code: status.UNAVAILABLE,
      details: "go away",
      metadata: trailer({ "grpc-retry-pushback-ms": value }),
    });
    await expect(call).resolves.toMatchObject({ code: status.UNAVAILABLE, details: "go away" });
    clock.tick(3_000_000_000);
    expect(channel.calls).toHaveLength(1);
  });
});

describe("hedging", () => {
  const hedging = { delayMs: 10, maxHedges: 1, budget: 1 };

  test("no answer after the delay: a second attempt to another backend; the first answer wins, the other is cancelled", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, {}, policy(fast, false, hedging));
    const first = channel.last;
    clock.tick(9);
    expect(channel.calls).toHaveLength(1);
    clock.tick(1);
    expect(channel.calls).toHaveLength(2);
    const hedge = channel.last;
    expect(avoidedBackends(hedge.metadata!)!).toEqual(["10.0.0.1:1"]);
    hedge.message(reply("from the hedge"));
    hedge.end();
    await expect(call).resolves.toEqual({ message: "from the hedge" });
    expect(first.cancelled?.code).toBe(status.CANCELLED);
    clock.tick(1_000);
    expect(channel.calls).toHaveLength(2); // maxHedges: no second hedge
  });

  test("an answer before the delay: no hedge", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, {}, policy(fast, false, hedging));
    channel.last.message(reply("quick"));
    channel.last.end();
    await call;
    clock.tick(1_000);
    expect(channel.calls).toHaveLength(1);
    expect(clock.pending).toBe(0); // no timer left behind
  });

  test("a retryable failure of one attempt waits for the other; a final one ends the call", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, {}, policy(fast, false, hedging));
    clock.tick(10);
    channel.calls[0]!.end(status.UNAVAILABLE, "down");
    channel.calls[1]!.message(reply("still here"));
    channel.calls[1]!.end();
    await expect(call).resolves.toEqual({ message: "still here" });

    const other = new FakeChannel();
    const final = unaryCall(other, sayHello, {}, {}, policy(fast, false, hedging)).catch((e: unknown) => e);
    clock.tick(10);
    expect(other.calls).toHaveLength(2);
    other.calls[1]!.end(status.INVALID_ARGUMENT, "bad request");
    await expect(final).resolves.toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(other.calls[0]!.cancelled?.code).toBe(status.CANCELLED);
  });

  test("a method not marked idempotent never hedges, unless the call says hedge: true; hedge: false turns it off", async () => {
    const channel = new FakeChannel();
    const hedged = policy(fast, false, hedging);
    const plain = unaryCall(channel, getFeature!, {}, {}, hedged);
    clock.tick(1_000);
    expect(channel.calls).toHaveLength(1);
    channel.last.message(Buffer.alloc(0));
    channel.last.end();
    await plain;

    const asked = new FakeChannel();
    const call = unaryCall(asked, getFeature!, {}, { hedge: true }, hedged);
    clock.tick(10);
    expect(asked.calls).toHaveLength(2);
    asked.last.message(Buffer.alloc(0));
    asked.last.end();
    await call;

    const off = new FakeChannel();
    const offCall = unaryCall(off, sayHello, {}, { hedge: false }, hedged);
    clock.tick(1_000);
    expect(off.calls).toHaveLength(1);
    off.last.message(reply("x"));
    off.last.end();
    await offCall;
  });

  test("hedges spend their budget: with none left, no hedge", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, {}, policy(fast, false, { ...hedging, budget: 0 }));
    clock.tick(1_000);
    expect(channel.calls).toHaveLength(1);
    channel.last.message(reply("x"));
    channel.last.end();
    await call;
  });

  test('"auto" learns the delay: no hedge before enough calls were seen', async () => {
    const channel = new FakeChannel();
    const auto = policy(fast, false, { delayMs: "auto", maxHedges: 1, budget: 1 });
    const call = unaryCall(channel, sayHello, {}, {}, auto);
    clock.tick(1_000);
    expect(channel.calls).toHaveLength(1);
    channel.last.message(reply("x"));
    channel.last.end();
    await call;
    for (let i = 0; i < 40; i++) auto.hedgeDelay(sayHello).observe(2);
    expect(auto.hedgeDelay(sayHello).ms).toBe(5); // p95 of 2 ms, at the 5 ms floor
  });
});
