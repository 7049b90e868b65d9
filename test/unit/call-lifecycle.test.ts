import { Metadata, status } from "@grpc/grpc-js";
import { describe, expect, test } from "vitest";
import { avoiding } from "../../src/balancer/pick-note.js";
import { CallLifecycle } from "../../src/call/call-lifecycle.js";
import { avoidedBackends, FakeChannel } from "./fake-call.js";

// The one lifecycle every call kind uses, alone.

const listener = { onReceiveMetadata: () => {}, onReceiveMessage: () => {}, onReceiveStatus: () => {} };

function lifecycle(options: object = {}) {
  const ended: unknown[] = [];
  const life = new CallLifecycle("/s/M", options, { callEnded: (error) => void ended.push(error) });
  return { life, ended };
}

describe("the call lifecycle", () => {
  test("ends once; a second finish or cancel does nothing", () => {
    const { life, ended } = lifecycle();
    expect(life.ended).toBe(false);
    life.finish(undefined);
    life.finish(new Error("late"));
    life.cancel(new Error("later"));
    expect(life.ended).toBe(true);
    expect(ended).toEqual([undefined]);
  });

  test("open(): the attempt gets the deadline and metadata; no avoid marks nothing; a closed channel ends the call", () => {
    const channel = new FakeChannel();
    const { life } = lifecycle({ deadline: 1_000, metadata: undefined, waitForReady: true });
    life.open(channel, listener, undefined);
    expect(channel.last.deadline).toBe(life.deadline);
    expect(avoidedBackends(channel.last.metadata!)).toBeUndefined();
    expect(channel.last.metadata!.getOptions().waitForReady).toBe(true);
    life.open(channel, listener, avoiding([{ connection: 7, backend: "10.0.0.1:1" }]));
    expect(avoidedBackends(channel.last.metadata!)!).toEqual(["10.0.0.1:1"]);
    const closed = new FakeChannel();
    closed.closed = true;
    closed.newCall = () => {
      throw new Error("closed");
    };
    const other = lifecycle();
    expect(other.life.open(closed, listener)).toBeUndefined();
    expect(other.ended).toEqual([new Error("closed")]);
  });

  test("cancel(): every attempt in flight is cancelled (a hedge too), with the caller's code and details", () => {
    const channel = new FakeChannel();
    const { life, ended } = lifecycle();
    life.open(channel, listener);
    life.open(channel, listener, undefined, true);
    life.cancel(new Error("left"), status.INTERNAL, "parse error");
    expect(channel.calls.map((c) => c.cancelled)).toEqual([
      { code: status.INTERNAL, details: "parse error" },
      { code: status.INTERNAL, details: "parse error" },
    ]);
    expect(ended).toEqual([new Error("left")]);
  });

  test("a new attempt that is not alongside replaces the others: cancel() then reaches only it", () => {
    const channel = new FakeChannel();
    const { life } = lifecycle();
    life.open(channel, listener);
    life.open(channel, listener);
    life.cancel(undefined);
    expect(channel.calls.map((c) => c.cancelled?.code)).toEqual([undefined, status.CANCELLED]);
  });

  test("cancelOthers(): the hedges that lost are cancelled, the winner is not", () => {
    const channel = new FakeChannel();
    const { life } = lifecycle();
    const first = life.open(channel, listener)!;
    life.open(channel, listener, undefined, true);
    life.open(channel, listener, undefined, true);
    life.cancelOthers(first);
    expect(channel.calls.map((c) => c.cancelled?.details)).toEqual([
      undefined,
      "balanced-grpc: another attempt of the hedged call answered first",
      "balanced-grpc: another attempt of the hedged call answered first",
    ]);
  });

  test("after(): a wait that would end at or past the deadline ends the call then, DEADLINE_EXCEEDED", async () => {
    const { life, ended } = lifecycle({ deadline: 20 });
    let ran = false;
    life.after(20, () => {
      ran = true;
    });
    await new Promise((r) => setTimeout(r, 60));
    expect(ran).toBe(false);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ code: status.DEADLINE_EXCEEDED, details: "Deadline exceeded", path: "/s/M" });
  });

  test("after(): a shorter wait runs next; a finish during it stops it", async () => {
    const { life } = lifecycle({ deadline: 10_000 });
    let ran = 0;
    life.after(5, () => ran++);
    await new Promise((r) => setTimeout(r, 30));
    expect(ran).toBe(1);
    life.after(5, () => ran++);
    life.finish(undefined);
    await new Promise((r) => setTimeout(r, 30));
    expect(ran).toBe(1);
  });

  test("an aborted signal: begin() is false and the call ended with its reason; a later abort cancels; the listener is removed at the end", () => {
    const aborted = new AbortController();
    aborted.abort(new Error("before"));
    const early = lifecycle({ signal: aborted.signal });
    expect(early.life.begin()).toBe(false);
    expect(early.ended).toEqual([new Error("before")]);

    const controller = new AbortController();
    const channel = new FakeChannel();
    const late = lifecycle({ signal: controller.signal });
    expect(late.life.begin()).toBe(true);
    late.life.open(channel, listener);
    controller.abort(new Error("now"));
    expect(late.ended).toEqual([new Error("now")]);
    expect(channel.last.cancelled).toEqual({ code: status.CANCELLED, details: "Cancelled on client" });

    const kept = new AbortController();
    const done = lifecycle({ signal: kept.signal });
    done.life.begin();
    done.life.finish(undefined);
    kept.abort();
    expect(done.ended).toEqual([undefined]);
  });

  test("header and trailer callbacks get nice-grpc metadata", () => {
    const headers: string[] = [];
    const { life } = lifecycle({
      onHeader: (m: { get(k: string): string | undefined }) => headers.push(`h:${m.get("a")}`),
      onTrailer: (m: { get(k: string): string | undefined }) => headers.push(`t:${m.get("b")}`),
    });
    const header = new Metadata();
    header.set("a", "1");
    const trailer = new Metadata();
    trailer.set("b", "2");
    life.header(header);
    life.trailer(trailer);
    expect(headers).toEqual(["h:1", "t:2"]);
  });
});
