import { pool, roundRobin, type Strategy } from "balanced-grpc";
import { afterEach, describe, expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { type InProcessBackends as Backends, startBackends } from "../../harness/backend-group.js";
import { startDnsServer, type DnsServer as TestDnsServer } from "../../harness/dns-server.js";
import { runLoad } from "../../harness/load.js";

const MAX_AGE = 1_000;
const NAME = "greeter.test";
let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function cluster(maxConnectionAge: number | undefined): Promise<{ backends: Backends; dns: TestDnsServer }> {
  const backends = await startBackends(3, maxConnectionAge ? { maxConnectionAge, maxConnectionAgeGrace: 5_000 } : {});
  cleanup.push(() => backends.shutdown());
  const dns = await startDnsServer();
  cleanup.push(() => dns.close());
  dns.set(NAME, ["127.0.0.1", "127.0.0.2"]);
  return { backends, dns };
}

/**
 * Calls at a steady pace (bounded by count and time) until the third backend
 * serves a call; returns ms from the DNS change, or undefined if it never did.
 */
async function timeToDiscover(
  backends: Backends,
  dns: TestDnsServer,
  strategy: Strategy,
  windowMs: number,
): Promise<number | undefined> {
  const client = createGreeterClient({ target: dns.target(NAME, backends.port), strategy });
  try {
    for (let i = 0; i < 20; i++) await client.sayHello({ name: "warm-up" });
    expect(backends.list[0]!.calls + backends.list[1]!.calls).toBeGreaterThan(0);
    expect(backends.list[2]!.calls).toBe(0);
    dns.set(NAME, ["127.0.0.1", "127.0.0.2", "127.0.0.3"]);
    const changed = performance.now();
    let foundAt: number | undefined;
    // A steady trickle of calls (4 at a time), until the new backend served one.
    await runLoad(() => client.sayHello({ name: "discover" }), {
      concurrency: 4,
      durationMs: windowMs,
      onEnd: () => {
        if (foundAt === undefined && backends.list[2]!.calls > 0) foundAt = performance.now();
      },
      stopWhen: () => foundAt !== undefined,
    });
    return foundAt === undefined ? undefined : foundAt - changed;
  } finally {
    client.close();
  }
}

describe.each([
  ["roundRobin()", roundRobin()],
  ["pool(2)", pool(2)],
])("%s with the SDK's default options", (name, strategy) => {
  test(`a backend added to DNS gets traffic within max age + 1 s (max age ${MAX_AGE} ms)`, async () => {
    const { backends, dns } = await cluster(MAX_AGE);
    const delay = await timeToDiscover(backends, dns, strategy, 15_000);
    console.log(
      `${name}: new backend served ${delay?.toFixed(0)} ms after the DNS change (max age ${MAX_AGE} ms); DNS queries`,
      Object.fromEntries(dns.queries),
    );
    expect(delay).toBeDefined();
    // The product promise is A + 1 s; the bound leaves a loaded CI machine slack.
    expect(delay!).toBeLessThan(MAX_AGE + 4_000);
  });

  test("without max connection age it is not found: the reason the feature exists", async () => {
    const { backends, dns } = await cluster(undefined);
    const delay = await timeToDiscover(backends, dns, strategy, MAX_AGE + 3_000);
    expect(delay).toBeUndefined();
    expect(backends.list[2]!.calls).toBe(0);
  });
});
