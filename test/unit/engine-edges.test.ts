import { Metadata as GrpcMetadata, status } from "@grpc/grpc-js";
import type { ClientError } from "nice-grpc-common";
import { beforeEach, describe, expect, test } from "vitest";
import { GreeterDefinition, HelloReply } from "../../generated/helloworld/helloworld.js";
import { Feature, RouteGuideDefinition } from "../../generated/routeguide/route_guide.js";
import { checkCallOptions } from "../../src/call/check-call-options.js";
import { clientStreamingCall } from "../../src/call/client-streaming-call.js";
import { methodsOf } from "../../src/call/method.js";
import { ResponseStream } from "../../src/call/response-stream.js";
import { unaryCall } from "../../src/call/unary-call.js";
import { ReplayingCall } from "../../src/channel/replaying-call.js";
import { DEFAULT_RETRY } from "../../src/defaults.js";
import { CallbackError, InvalidOptionError } from "../../src/errors.js";
import { FakeChannel, nextTurn, policyOf } from "./fake-call.js";
import { FakeClock } from "./fake-clock.js";

// The engine at the edges of its scenarios: user callbacks that throw, and
// close() racing a replay, a hedge, a retry's backoff or a call's start.
// Each test failed before its fix.

const sayHello = methodsOf(GreeterDefinition).find((m) => m.name === "sayHello")!; // NO_SIDE_EFFECTS
const [, listFeatures, recordRoute, routeChat] = methodsOf(RouteGuideDefinition);
const fast = { ...DEFAULT_RETRY, retryBaseDelayMs: 10, retryMaxDelayMs: 10 };
const reply = (message: string) => Buffer.from(HelloReply.encode({ message }).finish());
const feature = (name: string) => Buffer.from(Feature.encode(Feature.fromPartial({ name })).finish());
const boom = new Error("user code broke");
const thrower = () => {
  throw boom;
};

let clock = new FakeClock(Date.now());
beforeEach(() => {
  clock = new FakeClock(Date.now());
});
const policy = (...args: Parameters<typeof policyOf>) => policyOf(args[0], args[1], args[2], clock);

/** What a call rejected with. */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe("a callback that throws fails its call, never the process", () => {
  test.each(["onHeader", "onTrailer"] as const)(
    "unary %s: a CallbackError naming it, the thrown error as cause",
    async (name) => {
      const channel = new FakeChannel();
      const call = failure(unaryCall(channel, sayHello, {}, { [name]: thrower }, policy(fast)));
      const attempt = channel.last;
      attempt.header();
      attempt.message(reply("ok"));
      if (name === "onTrailer") attempt.end();
      const error = (await call) as CallbackError;
      expect(error).toBeInstanceOf(CallbackError);
      expect(error).toMatchObject({ callback: name, path: sayHello.path, cause: boom, code: status.CANCELLED });
      expect(error.message).toContain(`${name} callback of a /helloworld.Greeter/SayHello call threw: user code broke`);
      if (name === "onHeader") expect(attempt.cancelled?.code).toBe(status.CANCELLED); // the server hears of it
    },
  );

  test("onTrailer of an attempt that will be retried: the call fails with it, no retry", async () => {
    const channel = new FakeChannel();
    const call = failure(unaryCall(channel, sayHello, {}, { onTrailer: thrower }, policy(fast)));
    channel.last.end(status.UNAVAILABLE, "down");
    expect(await call).toBeInstanceOf(CallbackError);
    clock.tick(1_000);
    expect(channel.calls).toHaveLength(1);
  });

  test("onRetryableError: the call fails with it instead of retrying", async () => {
    const channel = new FakeChannel();
    const call = failure(unaryCall(channel, sayHello, {}, { onRetryableError: thrower }, policy(fast)));
    channel.last.end(status.UNAVAILABLE, "down");
    expect(await call).toMatchObject({ name: "CallbackError", callback: "onRetryableError", cause: boom });
    clock.tick(1_000);
    expect(channel.calls).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  test.each(["onHeader", "onTrailer"] as const)(
    "a server stream's %s: the stream throws it, the call is over",
    async (name) => {
      const channel = new FakeChannel();
      const stream = new ResponseStream(channel, listFeatures!, {}, { [name]: thrower });
      const consumed = failure(
        (async () => {
          for await (const _ of stream);
        })(),
      );
      await nextTurn();
      channel.last.header();
      channel.last.message(feature("a"));
      channel.last.end();
      expect(await consumed).toMatchObject({ name: "CallbackError", callback: name });
    },
  );

  test.each([
    ["client streaming", recordRoute!],
    ["bidi", routeChat!],
  ] as const)("%s: onHeader that throws fails the call and stops the requests", async (_kind, method) => {
    const channel = new FakeChannel();
    let pulled = 0;
    async function* requests() {
      for (;;) {
        pulled++;
        yield {};
        await nextTurn();
      }
    }
    const options = { onHeader: thrower };
    const outcome =
      method.kind === "clientStreaming"
        ? failure(clientStreamingCall(channel, method, requests(), options))
        : failure(
            (async () => {
              for await (const _ of new ResponseStream(channel, method, requests(), options));
            })(),
          );
    await nextTurn();
    channel.last.flushWrites();
    channel.last.header();
    expect(await outcome).toMatchObject({ name: "CallbackError", callback: "onHeader" });
    const after = pulled;
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(pulled - after).toBeLessThanOrEqual(1);
  });
});

describe("close() racing the engine", () => {
  test("a hedge due after close() is not sent: the first attempt, still running, answers the call", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, {}, policy(fast, false, { delayMs: 10, maxHedges: 1, budget: 1 }));
    channel.closed = true;
    clock.tick(10);
    expect(channel.calls).toHaveLength(1);
    channel.last.message(reply("finished after close"));
    channel.last.end();
    await expect(call).resolves.toEqual({ message: "finished after close" });
  });

  test("a call waiting to retry when close() comes ends then, with its attempt's error, and leaves no timer", async () => {
    const channel = new FakeChannel();
    const call = failure(unaryCall(channel, sayHello, {}, {}, policy(fast)));
    channel.last.end(status.UNAVAILABLE, "down");
    expect(channel.between.size).toBe(1); // the channel knows of the call between its attempts
    channel.closed = true;
    for (const end of [...channel.between]) end(); // what BalancedChannel.close() does
    expect(await call).toMatchObject({ code: status.UNAVAILABLE, details: "down" });
    expect(clock.pending).toBe(0);
    expect(channel.calls).toHaveLength(1);
  });

  test("a retry that starts normally is off the channel's list of waiting calls", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, {}, policy(fast));
    channel.last.end(status.UNAVAILABLE, "down");
    clock.tick(10);
    expect(channel.between.size).toBe(0);
    channel.last.message(reply("ok"));
    channel.last.end();
    await call;
  });

  test("a refused stream whose replay comes after close() ends CANCELLED, never sent again, and settles", async () => {
    const channel = new FakeChannel();
    const call = new ReplayingCall(channel as never, ["/s/M", Infinity, null, null, 0]);
    const statuses: { code: number; details: string }[] = [];
    call.start(new GrpcMetadata(), {
      onReceiveMetadata: () => {},
      onReceiveMessage: () => {},
      onReceiveStatus: (s) => void statuses.push(s),
    });
    call.sendMessageWithContext({}, Buffer.from("x"));
    call.halfClose();
    channel.last.refuse(); // the replay is decided now, and runs on the next turn
    channel.closed = true;
    await nextTurn();
    expect(channel.calls).toHaveLength(1);
    expect(statuses).toHaveLength(1);
    expect(statuses[0]!.code).toBe(status.CANCELLED);
    expect(channel.settledCalls).toBe(1);
  });

  test("a call whose first attempt cannot start (a closed channel underneath) is settled: close() does not wait for it", () => {
    const channel = new FakeChannel();
    channel.closed = true; // its attempt() throws
    const call = new ReplayingCall(channel as never, ["/s/M", Infinity, null, null, 0]);
    expect(() =>
      call.start(new GrpcMetadata(), { onReceiveMetadata() {}, onReceiveMessage() {}, onReceiveStatus() {} }),
    ).toThrow("closed");
    expect(channel.settledCalls).toBe(1);
  });
});

describe("budgets", () => {
  test("hedges draw on the retry budget too: with it spent, no hedge", async () => {
    const channel = new FakeChannel();
    const hedging = { delayMs: 10, maxHedges: 1, budget: 1 };
    // A retry budget with nothing in it: no reserve, and 0% of calls.
    const call = unaryCall(channel, sayHello, {}, {}, policy(fast, { ratio: 0, minPerSecond: 0 }, hedging));
    clock.tick(100);
    expect(channel.calls).toHaveLength(1);
    channel.last.message(reply("x"));
    channel.last.end();
    await call;
  });

  test("a hedge spends the retry budget: the retry it would have paid for is refused", async () => {
    const channel = new FakeChannel();
    const hedging = { delayMs: 10, maxHedges: 1, budget: 1 };
    // A reserve of exactly one extra attempt in the first second.
    const shared = policy(fast, { ratio: 0, minPerSecond: 1 }, hedging);
    const call = failure(unaryCall(channel, sayHello, {}, {}, shared));
    clock.tick(10);
    expect(channel.calls).toHaveLength(2); // the hedge took the one extra attempt
    channel.calls[0]!.end(status.UNAVAILABLE, "a down");
    channel.calls[1]!.end(status.UNAVAILABLE, "b down");
    expect(await call).toMatchObject({ code: status.UNAVAILABLE });
    clock.tick(100);
    expect(channel.calls).toHaveLength(2); // no retry left to spend
  });

  test("a call's hedge settings take no budget of their own: the budget is the client's", () => {
    expect(() => checkCallOptions({ hedge: { budget: 0.5 } }, "", true)).toThrow(InvalidOptionError);
    expect(() => checkCallOptions({ hedge: { budget: 0.5 } }, "", true)).toThrow(/hedge\.budget.*the client's/);
    expect(() => checkCallOptions({ hedge: { delayMs: 5, maxHedges: 2 } }, "", true)).not.toThrow();
  });
});

describe("the replay buffer has a cap per client", () => {
  test("a call whose messages would pass the client's cap keeps none: a refused stream then fails as it is", async () => {
    const channel = new FakeChannel();
    channel.keepCap = 10;
    const call = new ReplayingCall(channel as never, ["/s/M", Infinity, null, null, 0]);
    const statuses: number[] = [];
    call.start(new GrpcMetadata(), {
      onReceiveMetadata: () => {},
      onReceiveMessage: () => {},
      onReceiveStatus: (s) => void statuses.push(s.code),
    });
    call.sendMessageWithContext({}, Buffer.alloc(8));
    expect(channel.keptBytes).toBe(8);
    call.sendMessageWithContext({}, Buffer.alloc(8)); // 16 > 10: nothing kept, the 8 given back
    expect(channel.keptBytes).toBe(0);
    call.halfClose();
    channel.last.refuse();
    await nextTurn();
    expect(statuses).toEqual([status.UNAVAILABLE]);
    expect(channel.calls).toHaveLength(1);
  });

  test("what a call kept is given back once it is answered", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, { name: "x".repeat(100) }, {}, policy(false));
    expect(channel.keptBytes).toBeGreaterThan(100);
    channel.last.header();
    expect(channel.keptBytes).toBe(0);
    channel.last.message(reply("ok"));
    channel.last.end();
    await call;
  });
});

describe("telemetry's view of a stream the caller left early", () => {
  test("the lifecycle records CANCELLED, while the caller sees a plain end", async () => {
    const channel = new FakeChannel();
    const outcomes: unknown[] = [];
    const telemetry = {
      begin() {},
      end: (outcome: unknown) => void outcomes.push(outcome),
      attempt: (call: unknown) => call,
      waited() {},
    };
    (channel as unknown as { telemetry: unknown }).telemetry = { startCall: () => telemetry };
    const stream = new ResponseStream(channel, listFeatures!, {}, {});
    const first = stream.next();
    channel.last.message(feature("a"));
    await first;
    await expect(stream.return()).resolves.toEqual({ value: undefined, done: true });
    expect(outcomes).toHaveLength(1);
    expect((outcomes[0] as ClientError).code).toBe(status.CANCELLED);
  });
});
