import { type ClientOptions, pool, roundRobin } from "balanced-grpc";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createGreeterClient, type GreeterSdkClient } from "../../generated/helloworld/helloworld_sdk.js";
import { type InProcessBackends as Backends, startBackends } from "../../harness/backend-group.js";
import { runCalls, runLoad } from "../../harness/load.js";

// Issue 18's goals against real servers (three on 127.0.0.1-3, one target),
// with DEFAULT options unless a test says otherwise: failure-aware picks,
// retries elsewhere, the retry budget, hedging. Counts on the servers, not timings.

let backends: Backends;
const clients: GreeterSdkClient[] = [];

beforeAll(async () => {
  backends = await startBackends(3);
});
afterAll(async () => {
  await backends.shutdown();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const backend of backends.list) {
    backend.knobs.failEvery = 0;
    backend.knobs.stallEvery = 0;
    backend.knobs.stalls = 0;
  }
  backends.reset();
});

function client(options: Omit<ClientOptions, "target">): GreeterSdkClient {
  const made = createGreeterClient({ target: backends.target, ...options } as ClientOptions);
  clients.push(made);
  return made;
}

describe.each([
  ["pool(2)", { strategy: pool(2) }],
  ["roundRobin()", { strategy: roundRobin() }],
] as const)("one of 3 backends fails every call at once: %s, default options", (_name, strategy) => {
  test("no idempotent call is lost, and once seen failing the backend gets at most 5% of the attempts", async () => {
    const failing = backends.list[1]!;
    failing.knobs.failEvery = 1;
    const greeter = client(strategy);
    // The client meets the failing backend: every call still succeeds (retried elsewhere).
    const seen = await runCalls(200, 20, () => greeter.sayHello({ name: "first" }));
    expect(seen.failed).toEqual([]);
    expect(failing.calls).toBeGreaterThan(0);
    backends.reset();
    const { failed } = await runCalls(1_000, 20, () => greeter.sayHello({ name: "load" }));
    expect(failed).toEqual([]);
    const attempts = backends.totalCalls();
    expect(failing.calls / attempts).toBeLessThanOrEqual(0.05);
    // The healthy two served every call.
    expect(attempts - failing.calls).toBe(1_000);
  });
});

test("control: with failure accrual off, failures change no pick: the failing backend keeps drawing first attempts", async () => {
  // roundRobin(): its turns are the same with and without accrual, so what the
  // control shows is accrual's doing (p2c's share would also depend on how
  // fast each backend answers on this machine).
  const failing = backends.list[1]!;
  failing.knobs.failEvery = 1;
  // No retry budget: with the failing backend drawing this many attempts, the budget would refuse retries.
  const greeter = client({ strategy: roundRobin(), failureAccrual: false, retryBudget: false });
  await runCalls(200, 20, () => greeter.sayHello({ name: "first" }));
  backends.reset();
  const { failed } = await runCalls(600, 20, () => greeter.sayHello({ name: "load" }));
  expect(failed).toEqual([]); // retries go elsewhere
  expect(failing.calls / backends.totalCalls()).toBeGreaterThan(0.15);
});

test("a full outage, default options: the servers receive at most the calls + 20% + 10 per second", async () => {
  for (const backend of backends.list) backend.knobs.failEvery = 1;
  const created = performance.now();
  const greeter = client({ strategy: roundRobin() });
  const result = await runLoad(() => greeter.sayHello({ name: "outage" }), {
    concurrency: 10,
    durationMs: 3_000,
    maxCalls: 400,
  });
  const lived = (performance.now() - created) / 1000;
  expect(result.failures).toBe(result.calls);
  const attempts = backends.totalCalls();
  // 10 per second of the client's life, one second's worth at once (see RetryBudget).
  expect(attempts).toBeLessThanOrEqual(1.2 * result.calls + 10 * (lived + 1));
  // Without a budget every call would have made 4 attempts.
  expect(attempts).toBeLessThan(2 * result.calls);
});

test("2% of calls stall on every backend: hedged calls are answered by their hedge, within the hedge budget (10% more attempts)", async () => {
  for (const backend of backends.list) {
    backend.knobs.stallEvery = 50;
    backend.knobs.stallMs = 300;
  }
  const stalls = () => backends.list.reduce((n, b) => n + (b.knobs.stalls ?? 0), 0);
  const run = async (greeter: GreeterSdkClient, calls: number) => {
    let stalledReplies = 0;
    const { failed } = await runCalls(calls, 10, async () => {
      const reply = await greeter.sayHello({ name: "x" });
      if (reply.message.endsWith("(stalled)")) stalledReplies++;
    });
    expect(failed).toEqual([]);
    return stalledReplies;
  };

  // Without hedging every stalled call waits its stall out.
  const plain = client({ strategy: roundRobin() });
  const plainStalled = await run(plain, 500);
  expect(stalls()).toBeGreaterThan(0);
  expect(plainStalled).toBe(stalls());

  // With hedging: warmed (the "auto" delay is learned), then counted.
  const hedged = client({ strategy: roundRobin(), hedging: true });
  const before = backends.totalCalls();
  await run(hedged, 100);
  for (const backend of backends.list) backend.knobs.stalls = 0;
  const hedgedStalled = await run(hedged, 500);
  expect(stalls()).toBeGreaterThan(0);
  expect(hedgedStalled).toBeLessThanOrEqual(0.2 * stalls());
  // The hedge budget: hedges at most 10% of the calls started in its window,
  // the warm-up's included (its calls filled the budget as well). How many of
  // the 10% are used depends on how steady latency is here, not on the engine.
  expect(backends.totalCalls() - before).toBeLessThanOrEqual(1.1 * 600);
});
