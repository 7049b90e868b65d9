import { Metadata, type StatusObject, status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { attachNote, avoiding } from "../../src/balancer/pick-note.js";
import { ReplayingCall } from "../../src/channel/replaying-call.js";
import { REFUSED_STREAM_REPLAY } from "../../src/defaults.js";
import { avoidedBackends, FakeChannel, nextTurn } from "./fake-call.js";

// ReplayingCall's grpc-js call surface and its edges, over fake attempts.

function setup() {
  const channel = new FakeChannel();
  const call = new ReplayingCall(channel as never, ["/s/M", Infinity, null, null, 0]);
  const statuses: StatusObject[] = [];
  const listener = {
    onReceiveMetadata: () => {},
    onReceiveMessage: () => {},
    onReceiveStatus: (s: StatusObject) => void statuses.push(s),
  };
  return { channel, call, statuses, listener };
}

describe("ReplayingCall's call surface", () => {
  test("before start(): writes, reads and half-close throw, naming the operation; the rest answers empty", () => {
    const { call } = setup();
    expect(() => call.sendMessageWithContext({}, Buffer.from("x"))).toThrow("sendMessage() before start()");
    expect(() => call.startRead()).toThrow("startRead() before start()");
    expect(() => call.halfClose()).toThrow("halfClose() before start()");
    expect(call.getPeer()).toBe("");
    expect(call.getCallNumber()).toBe(0);
    expect(call.getAuthContext()).toBeNull();
  });

  test("after start(): peer, call number and auth context are the attempt's; credentials reach every attempt", async () => {
    const { channel, call, listener } = setup();
    const credentials = { fake: true } as never;
    call.setCredentials(credentials);
    let given: unknown[] = [];
    const original = channel.attempt.bind(channel);
    channel.attempt = (method: string, deadline: Date | number) => {
      const attempt = original(method, deadline);
      attempt.setCredentials = ((c: unknown) => void given.push(c)) as never;
      attempt.getCallNumber = () => 42;
      attempt.getAuthContext = () => ({ auth: 1 }) as never;
      return attempt;
    };
    call.start(new Metadata(), listener);
    expect(given).toEqual([credentials]);
    expect(call.getPeer()).toBe("10.0.0.1:1");
    expect(call.getCallNumber()).toBe(42);
    expect(call.getAuthContext()).toEqual({ auth: 1 });
    given = [];
    const later = { later: true } as never;
    call.setCredentials(later);
    expect(given).toEqual([later]);
    call.sendMessageWithContext({}, Buffer.from("x"));
    call.halfClose();
    channel.last.refuse();
    await nextTurn();
    expect(given).toEqual([later, later]); // the replay got them too
  });

  test("cancelled before start(): no attempt, the cancel's status on the next tick", async () => {
    const { channel, call, statuses, listener } = setup();
    call.cancelWithStatus(status.CANCELLED, "early");
    call.start(new Metadata(), listener);
    expect(channel.calls).toHaveLength(0);
    expect(statuses).toHaveLength(0);
    await new Promise(process.nextTick);
    expect(statuses.map((s) => [s.code, s.details])).toEqual([[status.CANCELLED, "early"]]);
    expect(channel.settledCalls).toBe(1);
  });

  test("cancelled while a replay waits for its turn: no new attempt, the caller gets the cancel", async () => {
    const { channel, call, statuses, listener } = setup();
    call.start(new Metadata(), listener);
    call.sendMessageWithContext({}, Buffer.from("x"));
    call.halfClose();
    channel.last.refuse();
    call.cancelWithStatus(status.CANCELLED, "caller left");
    await nextTurn();
    await nextTurn();
    expect(channel.calls).toHaveLength(1);
    expect(statuses.map((s) => s.code)).toEqual([status.CANCELLED]);
  });

  test("the byte cap: exactly the cap is kept (and replayed); one byte more is not", async () => {
    for (const [size, replayed] of [
      [REFUSED_STREAM_REPLAY.maxBufferedBytes, true],
      [REFUSED_STREAM_REPLAY.maxBufferedBytes + 1, false],
    ] as const) {
      const { channel, call, statuses, listener } = setup();
      call.start(new Metadata(), listener);
      call.sendMessageWithContext({}, Buffer.alloc(size));
      call.halfClose();
      channel.last.refuse();
      await nextTurn();
      expect(channel.calls.length === 2).toBe(replayed);
      expect(statuses.length === 0).toBe(replayed);
    }
  });

  test("a replay passes over the backend that refused it, and keeps those the caller avoided", async () => {
    const { channel, call, listener } = setup();
    const metadata = new Metadata();
    attachNote(metadata, avoiding([{ connection: 99, backend: "10.0.0.9:1" }]));
    call.start(metadata, listener);
    call.sendMessageWithContext({}, Buffer.from("x"));
    call.halfClose();
    channel.last.refuse();
    await nextTurn();
    expect(avoidedBackends(channel.last.metadata!)!.sort()).toEqual(["10.0.0.1:1", "10.0.0.9:1"]);
    channel.last.refuse();
    await nextTurn();
    expect(avoidedBackends(channel.last.metadata!)!.sort()).toEqual(["10.0.0.1:1", "10.0.0.2:1", "10.0.0.9:1"]);
  });

  test("a write with no callback goes straight through; flags are kept for a replay", async () => {
    const { channel, call, listener } = setup();
    call.start(new Metadata(), listener);
    const sent: { flags?: number }[] = [];
    const first = channel.last;
    const original = first.sendMessageWithContext.bind(first);
    first.sendMessageWithContext = (context: { flags?: number; callback?: () => void }, message: Buffer) => {
      sent.push(context);
      original(context, message);
    };
    call.sendMessageWithContext({ flags: 2 }, Buffer.from("x"));
    expect(sent).toEqual([{ flags: 2 }]);
    call.halfClose();
    first.refuse();
    await nextTurn();
    expect(channel.last.sent.map(String)).toEqual(["x"]);
    channel.last.flushWrites(); // the replay half-closes once what it sent again is written
    expect(channel.last.halfClosed).toBe(true);
  });
});
