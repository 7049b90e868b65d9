import { status } from "@grpc/grpc-js";
import { ClientError, Metadata } from "nice-grpc-common";
import { beforeEach, describe, expect, test } from "vitest";
import { GreeterDefinition, HelloReply, HelloRequest } from "../../generated/helloworld/helloworld.js";
import { Feature, Point, RouteGuideDefinition, RouteSummary } from "../../generated/routeguide/route_guide.js";
import { clientStreamingCall } from "../../src/call/client-streaming-call.js";
import { methodsOf } from "../../src/call/method.js";
import { ResponseStream } from "../../src/call/response-stream.js";
import type { ResolvedRetrySettings } from "../../src/call/retry-settings.js";
import { unaryCall } from "../../src/call/unary-call.js";
import { DEFAULT_RETRY, STREAM_WRITE_AHEAD } from "../../src/defaults.js";
import { FakeChannel, nextTurn, policyOf } from "./fake-call.js";
import { FakeClock } from "./fake-clock.js";

/** Waits (a few turns of the event loop at most) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !condition(); i++) await nextTurn();
  expect(condition()).toBe(true);
}

// The call engine against a fake channel: every attempt is a FakeCall the
// test answers. SayHello is NO_SIDE_EFFECTS (retries by default); GetFeature
// has no idempotency level.

const sayHello = methodsOf(GreeterDefinition).find((m) => m.name === "sayHello")!;
const [getFeature, listFeatures, recordRoute] = methodsOf(RouteGuideDefinition);
const retry: ResolvedRetrySettings = { ...DEFAULT_RETRY, retryBaseDelayMs: 10, retryMaxDelayMs: 10 };
const reply = (message: string) => Buffer.from(HelloReply.encode({ message }).finish());
const feature = (name: string) => Buffer.from(Feature.encode(Feature.fromPartial({ name })).finish());

/** The calls' clock, moved by each test: backoffs end exactly when due, with no real waiting. */
let clock = new FakeClock(Date.now());
beforeEach(() => {
  clock = new FakeClock(Date.now());
});
/** A call policy on the test's clock. */
const policy = (retrySettings: ResolvedRetrySettings | false) => policyOf(retrySettings, false, false, clock);

describe("unary", () => {
  test("sends the request, gets the reply; no deadline means none", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, { name: "x" }, {}, policy(retry));
    const attempt = channel.last;
    expect(attempt.method).toBe("/helloworld.Greeter/SayHello");
    expect(attempt.deadline).toBe(Infinity);
    expect(HelloRequest.decode(attempt.sent[0]!)).toEqual({ name: "x" });
    expect(attempt.halfClosed).toBe(true);
    expect(attempt.reads).toBe(1);
    attempt.message(reply("hi"));
    attempt.end();
    await expect(call).resolves.toEqual({ message: "hi" });
  });

  test("the deadline is absolute, computed once: every attempt gets the time left; waitForReady reaches grpc-js", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, { deadline: 5_000, waitForReady: true }, policy(retry));
    const deadline = channel.last.deadline as number;
    expect(deadline).toBe(clock.time + 5_000);
    expect(channel.last.metadata!.getOptions().waitForReady).toBe(true);
    channel.last.end(status.UNAVAILABLE, "first attempt");
    clock.tick(10);
    expect(channel.calls).toHaveLength(2);
    expect(channel.calls[1]!.deadline).toBe(deadline);
    channel.last.message(reply("ok"));
    channel.last.end();
    await call;
  });

  test("errors are nice-grpc ClientErrors with the path, code and details", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, getFeature!, {}, {}, policy(retry));
    channel.last.end(status.NOT_FOUND, "no such feature");
    const error = (await call.catch((e: unknown) => e)) as ClientError;
    expect(error).toBeInstanceOf(ClientError);
    expect(error.path).toBe("/routeguide.RouteGuide/GetFeature");
    expect(error.code).toBe(status.NOT_FOUND);
    expect(error.details).toBe("no such feature");
    expect(error.message).toBe("/routeguide.RouteGuide/GetFeature NOT_FOUND: no such feature");
  });

  test("idempotent methods retry retryable codes, reporting each; others do not unless asked", async () => {
    const channel = new FakeChannel();
    const reported: [number, number][] = [];
    const call = unaryCall(
      channel,
      sayHello,
      {},
      { onRetryableError: (_e, attempt, delay) => void reported.push([attempt, delay]) },
      policy(retry),
    );
    channel.last.end(status.UNAVAILABLE, "once");
    clock.tick(reported[0]![1]);
    expect(channel.calls).toHaveLength(2);
    channel.last.end(status.INTERNAL, "twice");
    clock.tick(reported[1]![1] - 1);
    expect(channel.calls).toHaveLength(2); // not a moment early
    clock.tick(1);
    expect(channel.calls).toHaveLength(3);
    channel.last.message(reply("third time"));
    channel.last.end();
    await expect(call).resolves.toEqual({ message: "third time" });
    expect(reported.map(([attempt]) => attempt)).toEqual([0, 1]);
    for (const [, delay] of reported) expect(delay).toBeGreaterThanOrEqual(5); // half to all of 10 ms

    const plain = new FakeChannel();
    const once = unaryCall(plain, getFeature!, {}, {}, policy(retry));
    plain.last.end(status.UNAVAILABLE, "not idempotent");
    await expect(once).rejects.toThrow(/not idempotent/);
    expect(plain.calls).toHaveLength(1);
  });

  test("a non-retryable code, the last attempt, or retry: false ends the call", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, {}, policy(retry));
    channel.last.end(status.INVALID_ARGUMENT, "bad");
    await expect(call).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(channel.calls).toHaveLength(1);

    const off = new FakeChannel();
    const offCall = unaryCall(off, sayHello, {}, {}, policy(false));
    off.last.end(status.UNAVAILABLE, "down");
    await expect(offCall).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(off.calls).toHaveLength(1);
  });

  test("a deadline that falls in a backoff ends the call then, with DEADLINE_EXCEEDED", async () => {
    const channel = new FakeChannel();
    const slow = { ...retry, retryBaseDelayMs: 10_000, retryMaxDelayMs: 10_000 };
    const call = unaryCall(channel, sayHello, {}, { deadline: 300 }, policy(slow)).catch((e: unknown) => e);
    channel.last.end(status.UNAVAILABLE, "down");
    clock.tick(299);
    expect(channel.calls).toHaveLength(1);
    clock.tick(1);
    const error = (await call) as ClientError;
    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    expect(channel.calls).toHaveLength(1); // no second attempt
  });

  test("abort during a backoff rejects at once with the signal's reason; no further attempt", async () => {
    const channel = new FakeChannel();
    const controller = new AbortController();
    const call = unaryCall(
      channel,
      sayHello,
      {},
      { signal: controller.signal },
      policy({ ...retry, retryBaseDelayMs: 5_000, retryMaxDelayMs: 5_000 }),
    ).catch((e: unknown) => e);
    channel.last.end(status.UNAVAILABLE, "down");
    controller.abort();
    const error = (await call) as Error;
    expect(error.name).toBe("AbortError");
    expect(clock.pending).toBe(0); // the backoff's timer went with the call
    clock.tick(10_000);
    expect(channel.calls).toHaveLength(1);
  });

  test("abort during an attempt cancels it; abort before the start makes no call", async () => {
    const channel = new FakeChannel();
    const controller = new AbortController();
    const call = unaryCall(channel, sayHello, {}, { signal: controller.signal }, policy(retry)).catch(
      (e: unknown) => e,
    );
    controller.abort(new Error("changed my mind"));
    expect(await call).toEqual(new Error("changed my mind"));
    expect(channel.last.cancelled).toEqual({ code: status.CANCELLED, details: "Cancelled on client" });
    channel.last.end(status.CANCELLED, "Cancelled on client"); // grpc-js reports it: ignored

    const never = new FakeChannel();
    const aborted = AbortSignal.abort();
    await expect(unaryCall(never, sayHello, {}, { signal: aborted }, policy(retry))).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(never.calls).toHaveLength(0);
  });

  test("onHeader and onTrailer are called for every attempt that gets them; the last call is the final attempt's", async () => {
    const channel = new FakeChannel();
    const headers: (string | undefined)[] = [];
    const trailers: (string | undefined)[] = [];
    const call = unaryCall(
      channel,
      sayHello,
      {},
      {
        onHeader: (h: Metadata) => headers.push(h.get("x-backend")),
        onTrailer: (t: Metadata) => trailers.push(t.get("x-why")),
      },
      policy(retry),
    );
    channel.last.header({ "x-backend": "a" });
    channel.last.end(status.UNAVAILABLE, "a is down", { "x-why": "down" });
    clock.tick(10);
    channel.last.header({ "x-backend": "b" });
    channel.last.message(reply("from b"));
    channel.last.end(status.OK, "", { "x-why": "fine" });
    await call;
    expect(headers).toEqual(["a", "b"]);
    expect(trailers).toEqual(["down", "fine"]);
  });

  test("metadata is sent as given", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(
      channel,
      sayHello,
      {},
      { metadata: Metadata({ "x-user": "u1", "x-bin": new Uint8Array([1, 2]) }) },
      policy(retry),
    );
    expect(channel.last.metadata!.get("x-user")).toEqual(["u1"]);
    expect(channel.last.metadata!.get("x-bin")).toEqual([Buffer.from([1, 2])]);
    channel.last.message(reply(""));
    channel.last.end();
    await call;
  });

  test("a refused stream (never processed) is sent again on the next turn, for any method, without counting as a retry", async () => {
    const channel = new FakeChannel();
    const retried: number[] = [];
    const call = unaryCall(
      channel,
      getFeature!,
      { latitude: 1 },
      { onRetryableError: () => retried.push(1) },
      policy(false),
    );
    const first = channel.last;
    first.refuse();
    expect(channel.calls).toHaveLength(1); // not at once: the closing connection is left first
    await nextTurn();
    expect(channel.calls).toHaveLength(2);
    expect(channel.last.sent[0]).toEqual(first.sent[0]);
    expect(channel.replays).toBe(1);
    channel.last.message(feature("found"));
    channel.last.end();
    await expect(call).resolves.toMatchObject({ name: "found" });
    expect(retried).toEqual([]);
  });

  test("a refused stream after a response header arrived is not sent again", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, getFeature!, {}, {}, policy(false));
    channel.last.header();
    channel.last.refuse();
    await expect(call).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await nextTurn();
    expect(channel.calls).toHaveLength(1);
  });

  test("calls the client's close() ended before they were sent end CANCELLED, not retried", async () => {
    const channel = new FakeChannel();
    const call = unaryCall(channel, sayHello, {}, {}, policy(retry));
    channel.closed = true;
    channel.last.end(status.UNAVAILABLE, "Channel closed before call started");
    const error = (await call.catch((e: unknown) => e)) as ClientError;
    expect(error.code).toBe(status.CANCELLED);
    expect(error.details).toMatch(/the client was closed before the call was sent/);
    expect(channel.calls).toHaveLength(1);
  });

  test("a request that cannot be serialized, or a reply that cannot be parsed, is INTERNAL", async () => {
    const channel = new FakeChannel();
    const unserializable = {
      get name(): string {
        throw new Error("no name");
      },
    };
    await expect(unaryCall(channel, sayHello, unserializable, {}, policy(retry))).rejects.toMatchObject({
      code: status.INTERNAL,
      details: expect.stringMatching(/Request message serialization failure/),
    });
    expect(channel.calls).toHaveLength(0);
    const call = unaryCall(channel, sayHello, {}, {}, policy(false));
    channel.last.message(Buffer.from([0xff, 0xff, 0xff]));
    channel.last.end();
    await expect(call).rejects.toMatchObject({
      code: status.INTERNAL,
      details: expect.stringMatching(/parsing error/),
    });
  });
});

describe("server streaming", () => {
  test("starts when iterated, reads ahead a bounded number of messages, then only as the consumer takes them", async () => {
    const channel = new FakeChannel();
    const stream = new ResponseStream(channel, listFeatures!, {}, {});
    expect(channel.calls).toHaveLength(0);
    const first = stream.next();
    const call = channel.last;
    expect(call.reads).toBe(1);
    // grpc-js delivers one message per read asked for: the server has 40.
    let delivered = 0;
    const deliver = () => {
      while (delivered < Math.min(40, call.reads)) call.message(feature(`f${delivered++}`));
    };
    deliver();
    expect(call.reads).toBe(17); // 1 handed to the waiting consumer + 16 buffered
    expect(delivered).toBe(17);
    expect((await first).value).toMatchObject({ name: "f0" });
    expect(call.reads).toBe(17);
    await stream.next();
    expect(call.reads).toBe(18); // one taken, one more asked for
    let rest = 0;
    for (;;) {
      deliver();
      if (delivered === 40) call.end();
      const { done } = await stream.next();
      if (done) break;
      rest++;
    }
    expect(rest).toBe(38); // every message delivered before the end
  });

  test("leaving the loop early cancels the call", async () => {
    const channel = new FakeChannel();
    const stream = new ResponseStream(channel, listFeatures!, {}, {});
    const consume = (async () => {
      for await (const _ of stream) break;
    })();
    channel.last.message(feature("only"));
    await consume;
    expect(channel.last.cancelled?.code).toBe(status.CANCELLED);
  });

  test("an error status is thrown after the messages that came before it", async () => {
    const channel = new FakeChannel();
    const stream = new ResponseStream(channel, listFeatures!, {}, {});
    const got: string[] = [];
    const consume = (async () => {
      for await (const f of stream) got.push((f as Feature).name);
    })();
    await Promise.resolve();
    channel.last.message(feature("a"));
    channel.last.end(status.RESOURCE_EXHAUSTED, "enough");
    await expect(consume).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(got).toEqual(["a"]);
  });
});

describe("client streaming", () => {
  test("the first message alone (until the stream is up), then writes ahead; half-closes once all are written", async () => {
    const channel = new FakeChannel();
    async function* points() {
      for (let latitude = 1; latitude <= 20; latitude++) yield { latitude };
    }
    const call = clientStreamingCall(channel, recordRoute!, points(), {});
    const attempt = channel.calls[0]!;
    await until(() => attempt.sent.length === 1);
    await nextTurn();
    expect(attempt.sent).toHaveLength(1); // grpc-js holds one message until the stream is up
    attempt.flushWrites();
    await until(() => attempt.sent.length === 1 + STREAM_WRITE_AHEAD);
    await nextTurn();
    expect(attempt.sent).toHaveLength(1 + STREAM_WRITE_AHEAD); // then a bounded number in flight
    attempt.flushWrites();
    await until(() => attempt.sent.length === 20);
    expect(attempt.halfClosed).toBe(false); // not before every write went through
    attempt.flushWrites();
    await until(() => attempt.halfClosed);
    expect(attempt.sent.map((m) => Point.decode(m).latitude)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    attempt.message(Buffer.from(RouteSummary.encode(RouteSummary.fromPartial({ pointCount: 20 })).finish()));
    attempt.end();
    await expect(call).resolves.toMatchObject({ pointCount: 20 });
  });

  test("an iterable that throws cancels the call and rejects with its error; a call that ends stops the pulling", async () => {
    const channel = new FakeChannel();
    async function* broken() {
      yield { latitude: 1 };
      throw new Error("no more points");
    }
    const call = clientStreamingCall(channel, recordRoute!, broken(), {});
    await until(() => channel.last.sent.length === 1);
    channel.last.flushWrites();
    await expect(call).rejects.toThrow("no more points");
    expect(channel.last.cancelled?.code).toBe(status.CANCELLED);

    let pulled = 0;
    let cleanedUp = false;
    async function* endless() {
      try {
        for (;;) {
          pulled++;
          yield { latitude: pulled };
        }
      } finally {
        cleanedUp = true;
      }
    }
    const other = new FakeChannel();
    const ended = clientStreamingCall(other, recordRoute!, endless(), {});
    await until(() => other.last.sent.length === 1);
    other.last.end(status.INVALID_ARGUMENT, "stop sending");
    await expect(ended).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await until(() => cleanedUp); // the write grpc-js will never confirm did not hold the loop
    expect(pulled).toBeLessThanOrEqual(2);
  });
});
