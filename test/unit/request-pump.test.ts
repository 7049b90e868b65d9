import { describe, expect, test } from "vitest";
import { Point, RouteGuideDefinition } from "../../generated/routeguide/route_guide.js";
import { methodsOf } from "../../src/call/method.js";
import { RequestPump } from "../../src/call/request-pump.js";
import { STREAM_WRITE_AHEAD } from "../../src/defaults.js";
import { FakeCall, nextTurn } from "./fake-call.js";

// The request pump alone, over a fake grpc-js call whose write callbacks the test releases.

const recordRoute = methodsOf(RouteGuideDefinition).find((m) => m.name === "recordRoute")!;
const latitudes = (call: FakeCall) => call.sent.map((m) => Point.decode(m).latitude);

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await nextTurn();
}

/** An iterable of `n` points that records how far it was pulled and whether it was closed. */
function points(n: number) {
  const state = { pulled: 0, closed: false };
  async function* generate() {
    try {
      for (let latitude = 1; latitude <= n; latitude++) {
        state.pulled++;
        yield { latitude };
      }
    } finally {
      state.closed = true;
    }
  }
  return { iterable: generate(), state };
}

describe("the request pump", () => {
  test("one message until the stream is up, then up to the write-ahead; half-closes after the last write; resolves then", async () => {
    const call = new FakeCall("/m", Infinity);
    const pump = new RequestPump(call as never, recordRoute);
    const { iterable } = points(40);
    let done = false;
    const running = pump.run(iterable).then(() => {
      done = true;
    });
    await settle();
    expect(latitudes(call)).toEqual([1]);
    call.flushWrites();
    await settle();
    expect(call.sent).toHaveLength(1 + STREAM_WRITE_AHEAD);
    for (let i = 0; i < 10 && !call.halfClosed; i++) {
      call.flushWrites();
      await settle();
    }
    expect(latitudes(call)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(call.halfClosed).toBe(true);
    await running;
    expect(done).toBe(true);
  });

  test("an empty iterable half-closes at once", async () => {
    const call = new FakeCall("/m", Infinity);
    await new RequestPump(call as never, recordRoute).run(points(0).iterable);
    expect(call.halfClosed).toBe(true);
    expect(call.sent).toHaveLength(0);
  });

  test("not half-closed while a write is in flight", async () => {
    const call = new FakeCall("/m", Infinity);
    const running = new RequestPump(call as never, recordRoute).run(points(1).iterable);
    await settle();
    expect(call.sent).toHaveLength(1);
    expect(call.halfClosed).toBe(false);
    call.flushWrites();
    await running;
    expect(call.halfClosed).toBe(true);
  });

  test("stop(): no more pulls, the iterable is closed, run() resolves; a second stop() does nothing", async () => {
    const call = new FakeCall("/m", Infinity);
    const pump = new RequestPump(call as never, recordRoute);
    const { iterable, state } = points(1_000);
    const running = pump.run(iterable);
    await settle();
    pump.stop();
    pump.stop();
    await running;
    call.flushWrites();
    await settle();
    expect(state.closed).toBe(true);
    expect(state.pulled).toBeLessThanOrEqual(2);
    expect(call.halfClosed).toBe(false);
  });

  test("an iterable that cannot start, or throws, rejects run(); a message that cannot be serialized too, closing the iterable", async () => {
    const call = new FakeCall("/m", Infinity);
    const broken = {
      [Symbol.asyncIterator]() {
        throw new Error("no iterator");
      },
    };
    await expect(new RequestPump(call as never, recordRoute).run(broken as never)).rejects.toThrow("no iterator");
    async function* throwing() {
      yield { latitude: 1 };
      throw new Error("no more");
    }
    const second = new FakeCall("/m", Infinity);
    const running = new RequestPump(second as never, recordRoute).run(throwing());
    await settle();
    second.flushWrites();
    await expect(running).rejects.toThrow("no more");
    let closed = false;
    async function* bad() {
      try {
        yield { latitude: 1n as never };
        yield { latitude: 2 };
      } finally {
        closed = true;
      }
    }
    const third = new FakeCall("/m", Infinity);
    await expect(new RequestPump(third as never, recordRoute).run(bad())).rejects.toThrow();
    expect(closed).toBe(true);
    expect(third.sent).toHaveLength(0);
  });
});
