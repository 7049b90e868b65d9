import { once } from "node:events";
import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { probeStreamLimit, StreamLimits } from "../../src/balancer/stream-limit.js";

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
  test("the option wins and nothing is probed", () => {
    let probes = 0;
    const limits = new StreamLimits(
      10,
      true,
      () => {},
      async () => ++probes,
    );
    expect(limits.of("a", endpoint)).toEqual({ value: 10, source: "option" });
    expect(probes).toBe(0);
  });

  test("assumed 100 until the server answers, once per address; then the server's", async () => {
    const learned: string[] = [];
    let probes = 0;
    const limits = new StreamLimits(
      undefined,
      true,
      (key) => learned.push(key),
      async () => {
        probes++;
        return 20;
      },
    );
    expect(limits.of("a", endpoint)).toEqual({ value: 100, source: "assumed" });
    expect(limits.of("a", endpoint).source).toBe("assumed");
    await Promise.resolve();
    expect(learned).toEqual(["a"]);
    expect(limits.of("a", endpoint)).toEqual({ value: 20, source: "server" });
    expect(probes).toBe(1);
  });

  test("a probe that fails leaves the assumed limit; no probe when probing is off", async () => {
    const off = new StreamLimits(
      undefined,
      false,
      () => {},
      async () => 5,
    );
    expect(off.of("a", endpoint)).toEqual({ value: 100, source: "assumed" });
    const failing = new StreamLimits(
      undefined,
      true,
      () => {},
      async () => undefined,
    );
    failing.of("a", endpoint);
    await Promise.resolve();
    expect(failing.of("a", endpoint).source).toBe("assumed");
  });
});
