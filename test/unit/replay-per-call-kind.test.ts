import { status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { GreeterDefinition, HelloReply } from "../../generated/helloworld/helloworld.js";
import { Feature, RouteGuideDefinition, RouteNote, RouteSummary } from "../../generated/routeguide/route_guide.js";
import { clientStreamingCall } from "../../src/call/client-streaming-call.js";
import { methodsOf } from "../../src/call/method.js";
import { ResponseStream } from "../../src/call/response-stream.js";
import { unaryCall } from "../../src/call/unary-call.js";
import { DEFAULT_RETRY, REFUSED_STREAM_REPLAY } from "../../src/defaults.js";
import { type FakeCall, FakeChannel, nextTurn, policyOf } from "./fake-call.js";

// Every call kind goes through the one replay mechanism (ReplayingCall): for
// each kind, the first attempt is refused unprocessed, and the call must
// succeed on a second attempt that carries everything sent, with no error,
// no retry, and one replay counted. Switching replay off for any kind fails
// its row.

const sayHello = methodsOf(GreeterDefinition).find((m) => m.name === "sayHello")!;
const [getFeature, listFeatures, recordRoute, routeChat] = methodsOf(RouteGuideDefinition);
const encode = {
  reply: (message: string) => Buffer.from(HelloReply.encode({ message }).finish()),
  feature: (name: string) => Buffer.from(Feature.encode(Feature.fromPartial({ name })).finish()),
  summary: (pointCount: number) => Buffer.from(RouteSummary.encode(RouteSummary.fromPartial({ pointCount })).finish()),
  note: (message: string) => Buffer.from(RouteNote.encode(RouteNote.fromPartial({ message })).finish()),
};

async function* twoPoints() {
  yield { latitude: 1 };
  yield { latitude: 2 };
}

async function* twoNotes() {
  yield { message: "a" };
  yield { message: "b" };
}

/** Lets the request pump write everything, confirming each write as grpc-js does. */
async function writeAll(attempt: FakeCall, count: number): Promise<void> {
  for (let i = 0; i < 50 && (attempt.sent.length < count || attempt.pendingWrites.length > 0); i++) {
    attempt.flushWrites();
    await nextTurn();
  }
}

interface Row {
  kind: string;
  /** Starts the call (with these call options); resolves to what the caller got. */
  start(channel: FakeChannel, options?: { retry: false }): Promise<unknown>;
  /** Messages the call sends. */
  sends: number;
  /** What the server answers on the attempt that succeeds. */
  answer(attempt: FakeCall): void;
  expected: unknown;
}

const collect = async (stream: AsyncIterable<unknown>) => {
  const got: unknown[] = [];
  for await (const item of stream) got.push(item);
  return got;
};

const rows: Row[] = [
  {
    kind: "unary (idempotent, retries on)",
    start: (channel, options) => unaryCall(channel, sayHello, { name: "x" }, options ?? {}, policyOf(DEFAULT_RETRY)),
    sends: 1,
    answer: (attempt) => attempt.message(encode.reply("hi")),
    expected: { message: "hi" },
  },
  {
    kind: "unary (not idempotent, retries off)",
    start: (channel) => unaryCall(channel, getFeature!, { latitude: 1 }, {}, policyOf(false)),
    sends: 1,
    answer: (attempt) => attempt.message(encode.feature("f")),
    expected: expect.objectContaining({ name: "f" }),
  },
  {
    kind: "server streaming",
    start: (channel) => collect(new ResponseStream(channel, listFeatures!, {}, {})),
    sends: 1,
    answer: (attempt) => {
      attempt.message(encode.feature("one"));
      attempt.message(encode.feature("two"));
    },
    expected: [expect.objectContaining({ name: "one" }), expect.objectContaining({ name: "two" })],
  },
  {
    kind: "client streaming",
    start: (channel) => clientStreamingCall(channel, recordRoute!, twoPoints(), {}),
    sends: 2,
    answer: (attempt) => attempt.message(encode.summary(2)),
    expected: expect.objectContaining({ pointCount: 2 }),
  },
  {
    kind: "bidi streaming",
    start: (channel) => collect(new ResponseStream(channel, routeChat!, twoNotes(), {})),
    sends: 2,
    answer: (attempt) => attempt.message(encode.note("back")),
    expected: [expect.objectContaining({ message: "back" })],
  },
];

describe.each(rows)("refused stream replay: $kind", (row) => {
  test("a refused first attempt is sent again, whole and in order; the call succeeds; one replay, no retry", async () => {
    const channel = new FakeChannel();
    const outcome = row.start(channel);
    for (let i = 0; i < 20 && channel.calls.length === 0; i++) await nextTurn();
    const first = channel.calls[0]!;
    await writeAll(first, row.sends);
    expect(first.sent).toHaveLength(row.sends);
    first.refuse();
    await nextTurn();
    expect(channel.calls).toHaveLength(2);
    const second = channel.calls[1]!;
    await writeAll(second, row.sends);
    expect(second.sent).toEqual(first.sent);
    expect(second.halfClosed).toBe(true);
    row.answer(second);
    second.end();
    await expect(outcome).resolves.toEqual(row.expected);
    expect(channel.replays).toBe(1);
  });

  test("a stream refused after a response began is not sent again: the caller gets the error", async () => {
    const channel = new FakeChannel();
    // (Without retries: a retry of the UNAVAILABLE after a backoff is another mechanism.)
    const outcome = row.start(channel, { retry: false });
    for (let i = 0; i < 20 && channel.calls.length === 0; i++) await nextTurn();
    const first = channel.calls[0]!;
    await writeAll(first, row.sends);
    first.header();
    first.refuse();
    await expect(outcome).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(channel.calls).toHaveLength(1);
    expect(channel.replays).toBe(0);
  });
});

describe("refused stream replay: limits", () => {
  test(`replays for at most ${REFUSED_STREAM_REPLAY.maxReplayMs / 1000} s from the first refusal`, async () => {
    const channel = new FakeChannel();
    const outcome = unaryCall(channel, getFeature!, {}, {}, policyOf(false)).catch((error: unknown) => error);
    let ended = false;
    void outcome.then(() => {
      ended = true;
    });
    for (let i = 0; i < 1_000 && !ended; i++) {
      channel.last.refuse();
      channel.clock.tick(REFUSED_STREAM_REPLAY.maxDelayMs); // later replays wait, doubling up to this
      await nextTurn();
    }
    await expect(outcome).resolves.toMatchObject({ code: status.UNAVAILABLE });
    expect(channel.replays).toBe(channel.calls.length - 1);
    expect(channel.replays).toBeGreaterThan(REFUSED_STREAM_REPLAY.maxReplayMs / REFUSED_STREAM_REPLAY.maxDelayMs - 5);
  });

  test("a call that sent more than the byte cap is not replayed: the caller gets the refusal", async () => {
    const half = "x".repeat(REFUSED_STREAM_REPLAY.maxBufferedBytes / 2 + 1);
    async function* large() {
      yield { message: half };
      yield { message: half };
    }
    const channel = new FakeChannel();
    const outcome = collect(new ResponseStream(channel, routeChat!, large(), {})).catch((error: unknown) => error);
    await writeAll(channel.last, 2);
    channel.last.refuse();
    await expect(outcome).resolves.toMatchObject({ code: status.UNAVAILABLE });
    await nextTurn();
    expect(channel.calls).toHaveLength(1);
    expect(channel.replays).toBe(0);
  });
});
