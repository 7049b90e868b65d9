import { Metadata, type StatusObject, status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import type { Route } from "../../src/balancer/pick-note.js";
import { ReplayingCall } from "../../src/channel/replaying-call.js";
import { REFUSED_STREAM_REPLAY } from "../../src/defaults.js";
import { FakeChannel, nextTurn } from "./fake-call.js";

// A BalancedChannel's call against a fake channel: each attempt is a FakeCall whose
// write callbacks (grpc-js's flow control) the test releases.

function setup() {
  const pool = new FakeChannel();
  const call = new ReplayingCall(pool as never, ["/routeguide.RouteGuide/RouteChat", Infinity, null, null, 0]);
  const statuses: StatusObject[] = [];
  const messages: Buffer[] = [];
  call.start(new Metadata(), {
    onReceiveMetadata: () => {},
    onReceiveMessage: (m: Buffer) => void messages.push(m),
    onReceiveStatus: (s: StatusObject) => void statuses.push(s),
  });
  const written: string[] = [];
  const send = (text: string) =>
    call.sendMessageWithContext({ callback: () => void written.push(text) }, Buffer.from(text));
  return { pool, call, statuses, messages, written, send };
}

const texts = (buffers: Buffer[]) => buffers.map((b) => b.toString());

describe("refused stream replay", () => {
  test("sends what was sent again, in order, one message per write callback, then half-closes; the caller's callbacks fire once", async () => {
    const { pool, call, statuses, written, send } = setup();
    call.startRead();
    const first = pool.last;
    // As grpc-js's callers do: each write once the last one's callback came.
    for (const text of ["1", "2", "3"]) {
      send(text);
      first.flushWrites();
    }
    call.halfClose();
    expect(written).toEqual(["1", "2", "3"]);
    first.refuse();
    expect(statuses).toEqual([]); // the caller sees nothing of it
    await nextTurn();
    expect(pool.calls).toHaveLength(2);
    expect(pool.replays).toBe(1);
    const again = pool.last;
    expect(again.reads).toBe(1); // the read the caller asked for is asked again
    // grpc-js takes the next message only after the last one's callback.
    expect(texts(again.sent)).toEqual(["1"]);
    again.flushWrites();
    expect(texts(again.sent)).toEqual(["1", "2"]);
    again.flushWrites();
    expect(texts(again.sent)).toEqual(["1", "2", "3"]);
    expect(again.halfClosed).toBe(false);
    again.flushWrites();
    expect(again.halfClosed).toBe(true);
    expect(written).toEqual(["1", "2", "3"]); // not again
    again.end();
    expect(statuses.map((s) => s.code)).toEqual([status.OK]);
  });

  test("writes still in flight when the stream is refused: their callbacks fire once, in order, after the replay wrote them", async () => {
    const { pool, call, written, send } = setup();
    send("1");
    pool.last.flushWrites();
    send("2");
    send("3"); // two in flight (a stream that is up takes several)
    pool.last.refuse();
    await nextTurn();
    const again = pool.last;
    expect(written).toEqual(["1"]);
    again.flushWrites(); // "1" again
    again.flushWrites(); // "2" again
    expect(written).toEqual(["1"]);
    again.flushWrites(); // "3" again: all written now
    expect(written).toEqual(["1", "2", "3"]);
    expect(texts(again.sent)).toEqual(["1", "2", "3"]);
    call.halfClose();
    expect(again.halfClosed).toBe(true);
  });

  test("messages the caller writes during a replay follow the kept ones", async () => {
    const { pool, call, send } = setup();
    send("1");
    pool.last.flushWrites();
    pool.last.refuse();
    await nextTurn();
    const again = pool.last;
    send("2"); // while "1" is being sent again
    call.halfClose();
    expect(texts(again.sent)).toEqual(["1"]);
    again.flushWrites();
    expect(texts(again.sent)).toEqual(["1", "2"]);
    again.flushWrites();
    expect(again.halfClosed).toBe(true);
  });

  test(`again and again for ${REFUSED_STREAM_REPLAY.maxReplayMs / 1000} s from the first refusal; then the refusal is reported`, async () => {
    const { pool, statuses, send } = setup();
    send("1");
    const since = pool.clock.now();
    let endedAt = 0;
    for (let i = 0; i < 1_000 && statuses.length === 0; i++) {
      pool.last.refuse();
      if (statuses.length > 0) endedAt = pool.clock.now();
      pool.clock.tick(REFUSED_STREAM_REPLAY.maxDelayMs); // later replays wait, doubling up to this
      await nextTurn();
    }
    expect(statuses.map((s) => s.details)).toEqual(["Stream refused by server"]);
    expect(endedAt - since).toBeGreaterThanOrEqual(REFUSED_STREAM_REPLAY.maxReplayMs);
    expect(endedAt - since).toBeLessThanOrEqual(REFUSED_STREAM_REPLAY.maxReplayMs + REFUSED_STREAM_REPLAY.maxDelayMs);
  });

  test("the first three replays go on the next turn; later ones wait 5 ms, doubling, up to 1 s", async () => {
    const { pool, send } = setup();
    send("1");
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      pool.last.refuse();
      await nextTurn();
      let waited = 0;
      while (pool.calls.length === i + 1 && waited < 2_000) {
        pool.clock.tick(1);
        waited++;
        await nextTurn();
      }
      waits.push(waited);
    }
    expect(waits).toEqual([0, 0, 0, 5, 10, 20, 40, 80, 160, 320]);
  });

  test("cancelled while a replay waits: it ends at once with the cancel's status, and nothing is sent again", async () => {
    const { pool, call, statuses, send } = setup();
    send("1");
    for (let i = 0; i < 4; i++) {
      pool.last.refuse();
      await nextTurn();
    }
    expect(pool.calls).toHaveLength(4); // three replays went at once; the fourth is waiting
    call.cancelWithStatus(status.CANCELLED, "no longer wanted");
    await nextTurn();
    expect(statuses.map((s) => [s.code, s.details])).toEqual([[status.CANCELLED, "no longer wanted"]]);
    pool.clock.tick(60_000);
    expect(pool.calls).toHaveLength(4);
    expect(pool.clock.pending).toBe(0);
  });

  test(`not once it sent more than ${REFUSED_STREAM_REPLAY.maxBufferedBytes} bytes: the refusal is reported`, async () => {
    const { pool, call, statuses } = setup();
    const big = Buffer.alloc(REFUSED_STREAM_REPLAY.maxBufferedBytes / 2 + 1);
    call.sendMessageWithContext({}, big);
    call.sendMessageWithContext({}, big);
    pool.last.refuse();
    await nextTurn();
    expect(pool.calls).toHaveLength(1);
    expect(statuses.map((s) => s.code)).toEqual([status.UNAVAILABLE]);
  });

  test("not once a response header or message arrived (the server may have processed it)", async () => {
    const { pool, statuses, send } = setup();
    send("1");
    pool.last.header();
    pool.last.refuse();
    await nextTurn();
    expect(pool.calls).toHaveLength(1);
    expect(statuses).toHaveLength(1);
  });

  test("other failures are reported as they are", async () => {
    const { pool, statuses, send } = setup();
    send("1");
    pool.last.end(status.UNAVAILABLE, "Connection dropped");
    await nextTurn();
    expect(pool.calls).toHaveLength(1);
    expect(statuses.map((s) => s.details)).toEqual(["Connection dropped"]);
  });
});

describe("close", () => {
  test("a call the client's close() ended before it was sent ends CANCELLED, and is not replayed", async () => {
    const { pool, statuses, send } = setup();
    send("1");
    pool.closed = true;
    pool.last.end(status.UNAVAILABLE, "Channel closed before call started");
    expect(statuses.map((s) => s.code)).toEqual([status.CANCELLED]);
    expect(statuses[0]!.details).toMatch(/the client was closed before the call was sent/);
  });

  test("a call cancelled before it started reports its status without an attempt", async () => {
    const pool = new FakeChannel();
    const call = new ReplayingCall(pool as never, ["/x", Infinity, null, null, 0]);
    call.cancelWithStatus(status.CANCELLED, "never mind");
    const statuses: StatusObject[] = [];
    call.start(new Metadata(), {
      onReceiveMetadata: () => {},
      onReceiveMessage: () => {},
      onReceiveStatus: (s: StatusObject) => void statuses.push(s),
    });
    await new Promise(process.nextTick);
    expect(statuses.map((s) => [s.code, s.details])).toEqual([[status.CANCELLED, "never mind"]]);
    expect(pool.calls).toHaveLength(0);
  });
});

test("a listener with onReplay hears of each replay before it starts, with the replay's metadata and the refusing backend", async () => {
  const pool = new FakeChannel();
  const call = new ReplayingCall(pool as never, ["/helloworld.Greeter/SayHello", Infinity, null, null, 0]);
  const replays: { metadata: Metadata; refusedBy: Route | undefined; callsBefore: number }[] = [];
  const metadata = new Metadata();
  metadata.set("traceparent", "first");
  call.start(metadata, {
    onReceiveMetadata: () => {},
    onReceiveMessage: () => {},
    onReceiveStatus: () => {},
    onReplay: (replay: Metadata, refusedBy: Route | undefined) => {
      replays.push({ metadata: replay, refusedBy, callsBefore: pool.calls.length });
      replay.set("traceparent", "replay"); // telemetry: the new attempt's own trace context
    },
  } as never);
  call.sendMessageWithContext({}, Buffer.from("hello"));
  call.halfClose();
  const first = pool.last;
  first.flushWrites();
  first.refuse();
  await nextTurn();
  expect(replays).toHaveLength(1);
  expect(replays[0]!.callsBefore).toBe(1); // told before the replay started
  expect(replays[0]!.refusedBy?.backend).toBe(first.getPeer());
  expect(pool.calls).toHaveLength(2);
  expect(pool.last.metadata?.get("traceparent")).toEqual(["replay"]);
});
