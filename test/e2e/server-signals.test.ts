import { Status } from "balanced-grpc";
import { afterEach, describe, expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { freePort } from "../../harness/backend-group.js";
import { healthProbe } from "../../harness/health-probe.js";
import { type SignalledBackend, spawnSignalledBackend } from "../../harness/signalled-backend.js";

// startServer({ handleSignals: true }) in a real process (harness/signalled-backend-main.ts),
// stopped by real signals. Ordering of what really happened, and bounds that
// are lower bounds or generous multiples.

let backends: SignalledBackend[] = [];
afterEach(async () => {
  await Promise.all(backends.map((b) => b.kill()));
  backends = [];
});

async function backend(slowMs: number, drain: { delayMs: number; timeoutMs: number }) {
  const b = await spawnSignalledBackend({
    address: `127.0.0.1:${await freePort()}`,
    slowMs,
    drain,
    announceCalls: true,
  });
  backends.push(b);
  return b;
}

describe("handleSignals", () => {
  test("SIGTERM: NOT_SERVING during the delay, the call in flight completes, then the process exits 0", async () => {
    const drain = { delayMs: 300, timeoutMs: 10_000 };
    const server = await backend(500, drain);
    const client = createGreeterClient({ target: server.address, retry: false });
    const probe = healthProbe(server.address);
    expect(await probe.check("")).toBe("SERVING");
    const watch = probe.watch("");
    await watch.until("SERVING");
    let callEndedAt = 0;
    const call = client.sayHello({ name: "in flight" }).finally(() => (callEndedAt = performance.now()));
    await server.nextCall();
    const exitP = server.terminate();
    await watch.until("NOT_SERVING");
    await expect(call).resolves.toEqual({ message: "Hello in flight" });
    const exit = await exitP;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(callEndedAt).toBeLessThan(exit.at);
    expect(exit.tookMs).toBeLessThan(drain.delayMs + drain.timeoutMs); // it was not forced
    expect(exit.tookMs).toBeGreaterThanOrEqual(drain.delayMs - 5);
    client.close();
    probe.close();
  });

  test.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)("a second %s forces: the call still running is cut, the process exits with %i", async (signal, code) => {
    const server = await backend(60_000, { delayMs: 0, timeoutMs: 60_000 });
    const client = createGreeterClient({ target: server.address, retry: false });
    const probe = healthProbe(server.address);
    const watch = probe.watch("");
    await watch.until("SERVING");
    const call = client.sayHello({ name: "too long" }).then(
      () => "OK",
      (e: { code?: number }) => Status[e.code ?? -1],
    );
    await server.nextCall();
    server.signal(signal);
    await watch.until("NOT_SERVING"); // the first signal started a drain
    await watch.ended; // and it stopped taking streams: the drain now waits for the call
    const secondAt = server.signal(signal);
    const exit = await server.exited();
    expect(exit).toMatchObject({ code, signal: null });
    expect(exit.at - secondAt).toBeLessThan(5_000); // not the 60 s the drain would have waited
    expect(["CANCELLED", "UNAVAILABLE"]).toContain(await call);
    client.close();
    probe.close();
  });
});
