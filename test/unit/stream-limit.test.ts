import { once } from "node:events";
import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { probeStreamLimit, StreamLimits } from "../../src/balancer/stream-limit.js";
import { FakeClock } from "./fake-clock.js";

const endpoint = { addresses: [{ host: "127.0.0.1", port: 1 }] };
const servers: Http2Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function http2Server(settings: { maxConcurrentStreams?: number }) {
  const server = createServer({ settings });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { host: "127.0.0.1", port: (server.address() as AddressInfo).port };
}

describe("probeStreamLimit: a server's advertised SETTINGS_MAX_CONCURRENT_STREAMS", () => {
  test("read from its first SETTINGS frame", async () => {
    expect(await probeStreamLimit(await http2Server({ maxConcurrentStreams: 7 }))).toBe(7);
  });

  test("2^32 − 1 (HTTP/2's initial value) from a server that sets none", async () => {
    expect(await probeStreamLimit(await http2Server({}))).toBe(2 ** 32 - 1);
  });

  test("undefined when nothing listens", async () => {
    const address = await http2Server({});
    servers.pop()?.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await probeStreamLimit(address)).toBeUndefined();
  });
});

describe("StreamLimits", () => {
  /** A probe the test answers: each call waits for `answer`. */
  function scriptedProbe() {
    const calls: ((value: number | undefined) => void)[] = [];
    return {
      probe: () => new Promise<number | undefined>((resolve) => calls.push(resolve)),
      get count() {
        return calls.length;
      },
      async answer(value: number | undefined) {
        calls.at(-1)!(value);
        await Promise.resolve();
        await Promise.resolve();
      },
    };
  }

  function limitsWith(options: { option?: number; probing?: boolean; up?: () => boolean } = {}) {
    const clock = new FakeClock();
    const probe = scriptedProbe();
    const learned: string[] = [];
    const limits = new StreamLimits(
      options.option,
      options.probing ?? true,
      (key) => learned.push(key),
      probe.probe,
      options.up ?? (() => true),
      clock,
    );
    return { clock, probe, learned, limits };
  }

  test("the option wins and nothing is probed", () => {
    const { limits, probe } = limitsWith({ option: 10 });
    limits.ready("a", endpoint);
    expect(limits.of("a", endpoint)).toEqual({ value: 10, source: "option" });
    expect(probe.count).toBe(0);
  });

  test("assumed 100 until a connection is ready and the server answers; one probe for the connections of an address", async () => {
    const { limits, probe, learned } = limitsWith();
    expect(limits.of("a", endpoint)).toEqual({ value: 100, source: "assumed" });
    expect(probe.count).toBe(0); // nothing to ask before a connection is up (the server may not be)
    limits.ready("a", endpoint);
    limits.ready("a", endpoint); // a pool's second connection
    expect(probe.count).toBe(1);
    await probe.answer(20);
    expect(learned).toEqual(["a"]);
    expect(limits.of("a", endpoint)).toEqual({ value: 20, source: "server" });
    limits.ready("a", endpoint);
    expect(probe.count).toBe(1);
  });

  test("a new address is probed as its first connection is made; a connection ready after a failed probe probes again at once", async () => {
    const { limits, probe } = limitsWith();
    limits.connecting("a", endpoint);
    limits.connecting("a", endpoint);
    expect(probe.count).toBe(1);
    await probe.answer(undefined); // the server was not listening yet
    limits.connecting("a", endpoint); // a reconnect attempt: the retry (or a ready connection) will do
    expect(probe.count).toBe(1);
    limits.ready("a", endpoint);
    expect(probe.count).toBe(2);
    await probe.answer(12);
    expect(limits.of("a", endpoint)).toEqual({ value: 12, source: "server" });
  });

  test("a probe that fails is tried again with backoff while a connection is up, until the server answers", async () => {
    let up = true;
    const { limits, probe, clock } = limitsWith({ up: () => up });
    limits.ready("a", endpoint);
    await probe.answer(undefined);
    expect(limits.of("a", endpoint).source).toBe("assumed");
    clock.advance(999);
    expect(probe.count).toBe(1);
    clock.advance(1_000);
    expect(probe.count).toBe(2);
    await probe.answer(undefined);
    clock.advance(2_999);
    expect(probe.count).toBe(2);
    up = false; // the retry finds no connection up: it waits for the next ready one
    clock.advance(3_000);
    expect(probe.count).toBe(2);
    up = true;
    limits.ready("a", endpoint);
    expect(probe.count).toBe(3);
    await probe.answer(7);
    expect(limits.of("a", endpoint)).toEqual({ value: 7, source: "server" });
  });

  test("a server that comes back (its connections went down and are ready again) is probed again: a restart may change its limit", async () => {
    const { limits, probe, learned, clock } = limitsWith();
    limits.ready("a", endpoint);
    await probe.answer(100);
    clock.advance(10_000);
    limits.down("a");
    clock.advance(10_500);
    limits.ready("a", endpoint);
    expect(probe.count).toBe(2);
    await probe.answer(5);
    expect(limits.of("a", endpoint)).toEqual({ value: 5, source: "server" });
    expect(learned).toEqual(["a", "a"]);
  });

  test("probes of an address start at most every 5 s: rotated connections do not each cost one", async () => {
    const { limits, probe, clock } = limitsWith();
    limits.ready("a", endpoint);
    await probe.answer(100);
    clock.advance(1_000);
    limits.down("a");
    limits.ready("a", endpoint); // back 1 s after the last probe
    expect(probe.count).toBe(1);
    limits.down("a");
    limits.ready("a", endpoint);
    clock.advance(4_999);
    expect(probe.count).toBe(1);
    clock.advance(5_000);
    expect(probe.count).toBe(2);
  });

  test("no probe when probing is off; a forgotten address's retries stop", async () => {
    const off = limitsWith({ probing: false });
    off.limits.ready("a", endpoint);
    expect(off.limits.of("a", endpoint)).toEqual({ value: 100, source: "assumed" });
    expect(off.probe.count).toBe(0);
    const { limits, probe, clock } = limitsWith();
    limits.ready("a", endpoint);
    await probe.answer(undefined);
    limits.forget("a");
    expect(clock.pending).toBe(0);
    clock.advance(60_000);
    expect(probe.count).toBe(1);
  });
});
