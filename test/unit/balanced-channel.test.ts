import { Metadata, type StatusObject, status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { ConnectionBoard } from "../../src/balancer/connection-board.js";
import { noteOf } from "../../src/balancer/pick-note.js";
import { BalancedChannel } from "../../src/channel/balanced-channel.js";
import { REFUSED_STREAM_REPLAY } from "../../src/defaults.js";
import { ClientClosedError, InvalidOptionError } from "../../src/errors.js";
import { FakeCall } from "./fake-call.js";

// A BalancedChannel over a fake grpc-js channel whose calls the test answers.

function setup(secure = false) {
  const calls: FakeCall[] = [];
  let closed = 0;
  const grpc = {
    createCall: (method: string, deadline: number) => {
      const call = new FakeCall(method, deadline);
      calls.push(call);
      return call;
    },
    close: () => void closed++,
    getConnectivityState: (tryToConnect: boolean) => (tryToConnect ? 1 : 0),
    watchConnectivityState: (_s: number, _d: number, callback: () => void) => callback(),
    getChannelzRef: () => ({ kind: "channel", id: 7, name: "t" }),
  };
  const board = new ConnectionBoard();
  const channel = new BalancedChannel("t:1", grpc as never, board, secure);
  const statuses: StatusObject[] = [];
  const start = () => {
    const call = channel.createCall("/s/M", Infinity, null, null, 0);
    call.start(new Metadata(), {
      onReceiveMetadata: () => {},
      onReceiveMessage: () => {},
      onReceiveStatus: (s: StatusObject) => void statuses.push(s),
    });
    return call;
  };
  return { channel, calls, board, statuses, start, closed: () => closed };
}

describe("BalancedChannel", () => {
  test("its calls are ReplayingCalls over the grpc-js channel's; the rest is grpc-js's", () => {
    const { channel, calls, start } = setup();
    expect(channel.getTarget()).toBe("t:1");
    start();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.method).toBe("/s/M");
    expect(channel.getConnectivityState(true)).toBe(1);
    expect(channel.getConnectivityState(false)).toBe(0);
    expect(channel.getChannelzRef()).toMatchObject({ id: 7 });
    let watched = false;
    channel.watchConnectivityState(0, Infinity, () => {
      watched = true;
    });
    expect(watched).toBe(true);
    expect(channel.refusedStreamReplays).toBe(0);
    channel.replayed();
    expect(channel.refusedStreamReplays).toBe(1);
  });

  test("stats() are what its balancer reports to the board", () => {
    const { channel, board } = setup();
    expect(channel.stats()).toEqual([]);
    const source = { stats: () => [{ address: "a" }] as never };
    board.attach(source);
    expect(channel.stats()).toEqual([{ address: "a" }]);
    board.detach({ stats: () => [] });
    expect(channel.stats()).toEqual([{ address: "a" }]); // only the attached one detaches
    board.detach(source);
    expect(channel.stats()).toEqual([]);
  });

  test("close(): grpc-js's channel closes once; later calls and watches throw ClientClosedError; resolves at once with no calls", async () => {
    const { channel, closed } = setup();
    expect(channel.closed).toBe(false);
    await channel.close();
    await channel.close();
    expect(channel.closed).toBe(true);
    expect(closed()).toBe(1);
    expect(() => channel.createCall("/s/M", Infinity, null, null, 0)).toThrow(ClientClosedError);
    expect(() => channel.attempt("/s/M", Infinity, null, null, 0)).toThrow(ClientClosedError);
    expect(() => channel.watchConnectivityState(0, Infinity, () => {})).toThrow(ClientClosedError);
  });

  test("close() resolves once the calls in flight ended; with graceMs they are cancelled when it runs out", async () => {
    const { channel, calls, start, statuses } = setup();
    start();
    let closed = false;
    const done = channel.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(false);
    calls[0]!.end(status.OK);
    await done;
    expect(statuses.map((s) => s.code)).toEqual([status.OK]);

    const other = setup();
    other.start();
    other.start();
    const graced = other.channel.close({ graceMs: 5 });
    await graced;
    expect(other.calls.map((c) => c.cancelled?.code)).toEqual([status.CANCELLED, status.CANCELLED]);
    expect(other.calls[0]!.cancelled?.details).toMatch(/grace period/);
  });

  test("close({ graceMs }) checks its argument", () => {
    const { channel } = setup();
    expect(() => channel.close({ graceMs: -1 })).toThrow(InvalidOptionError);
    expect(() => channel.close({ graceMs: 1.5 })).toThrow(/graceMs/);
  });

  test("a call that could not connect, on a channel without TLS, is told the server may use TLS", () => {
    const plain = setup(false);
    const noConnection = {
      code: status.UNAVAILABLE,
      details: "No connection established. x",
      metadata: new Metadata(),
    };
    expect(plain.channel.explain(noConnection, false).details).toMatch(/does not use TLS.*createSsl/);
    // Not when the call got an answer, not for other codes or causes, not with TLS.
    expect(plain.channel.explain(noConnection, true).details).toBe(noConnection.details);
    expect(plain.channel.explain({ ...noConnection, code: status.INTERNAL }, false).details).toBe(noConnection.details);
    expect(plain.channel.explain({ ...noConnection, details: "reset" }, false).details).toBe("reset");
    const tls = setup(true);
    expect(tls.channel.explain(noConnection, false).details).toBe(noConnection.details);
  });

  test("what calls keep for replays is capped per channel: up to the cap, then refused until some is forgotten", () => {
    const { channel } = setup();
    const cap = REFUSED_STREAM_REPLAY.maxChannelBufferedBytes;
    expect(channel.keep(cap - 10)).toBe(true);
    expect(channel.keep(10)).toBe(true); // exactly the cap
    expect(channel.keep(1)).toBe(false);
    channel.forget(10);
    expect(channel.keep(11)).toBe(false);
    expect(channel.keep(10)).toBe(true);
    channel.forget(cap);
    expect(channel.keep(cap)).toBe(true);
  });

  test("cancelCallsOn(connection): only the calls on that connection end CANCELLED, naming the grace", () => {
    const { channel, calls, start } = setup();
    start();
    start();
    noteOf(calls[0]!.metadata!)!.route = { connection: 5, backend: "a" };
    noteOf(calls[1]!.metadata!)!.route = { connection: 6, backend: "a" };
    channel.cancelCallsOn(5);
    expect(calls[0]!.cancelled).toEqual({
      code: status.CANCELLED,
      details: "balanced-grpc: the connection was past its max age and its grace ran out",
    });
    expect(calls[1]!.cancelled).toBeUndefined();
  });

  test("calls the client's close() ended before they were sent end CANCELLED, naming the close", async () => {
    const { channel, calls, start, statuses } = setup();
    start();
    void channel.close();
    calls[0]!.end(status.UNAVAILABLE, "Channel closed before call started");
    expect(statuses[0]!.code).toBe(status.CANCELLED);
    expect(statuses[0]!.details).toMatch(/client was closed before the call was sent/);
  });
});
