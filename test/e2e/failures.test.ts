import { setTimeout as delay } from "node:timers/promises";
import { type ClientError, Status, type Strategy } from "balanced-grpc";
import { afterEach, describe, expect, test } from "vitest";
import { createGreeterClient, type GreeterSdkClient } from "../../generated/helloworld/helloworld_sdk.js";
import { createRouteGuideClient } from "../../generated/routeguide/route_guide_sdk.js";
import { spawnBackends } from "../../harness/backend-group.js";
import type { BackendProcess } from "../../harness/backend-process.js";
import { type CallEvent, runLoad } from "../../harness/load.js";
import { backendOf } from "../../harness/reference/greeter.js";
import { strategies } from "../../harness/strategies.js";

// Backends are real processes on 127.0.0.1-3: killed (SIGKILL) or hung
// (SIGSTOP) for real. Every assertion is against the instants things really
// happened (performance.now() when the kill, restart or stop was done), with
// bounds that are generous multiples of what the mechanism needs.

let processes: BackendProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  processes = [];
});

async function threeBackends(): Promise<{ target: string; backends: BackendProcess[] }> {
  const group = await spawnBackends(3);
  processes.push(...group.list);
  return { target: group.target, backends: group.list };
}

type Served = CallEvent<string | undefined>;

const servedBy = (events: Served[], backend: string, from: number, to = Infinity) =>
  events.filter((e) => e.error === undefined && e.value === backend && e.endedAt >= from && e.endedAt < to).length;

/** A SayHello call that resolves to the backend that answered; each retried attempt's instant goes to `retried`. */
const sayHelloFrom = (client: GreeterSdkClient, name: string, retried: number[]) => async () => {
  let backend: string | undefined;
  await client.sayHello(
    { name },
    { onHeader: (h) => (backend = backendOf(h)), onRetryableError: () => retried.push(performance.now()) },
  );
  return backend;
};

describe.each(strategies(2).filter(([name]) => name !== "pickFirst()") as [string, Strategy][])(
  "a backend killed (SIGKILL) under load, %s",
  (name, strategy) => {
    test("idempotent SayHello: 0 failures, traffic leaves it, and it is used again once back", async () => {
      const { target, backends } = await threeBackends();
      const victim = backends[2]!;
      const retries: number[] = [];
      const client = createGreeterClient({ target, strategy });
      const events: Served[] = [];
      let killedAt: number | undefined;
      let restartedAt: number | undefined;
      let backAt: number | undefined;
      const script = (async () => {
        await delay(1_500);
        await victim.kill();
        killedAt = performance.now();
        await delay(1_500);
        await victim.restart();
        restartedAt = performance.now();
      })();
      const result = await runLoad(sayHelloFrom(client, "kill", retries), {
        concurrency: 20,
        durationMs: 20_000,
        onEnd: (event) => {
          events.push(event);
          if (restartedAt !== undefined && backAt === undefined && event.value === victim.host) backAt = event.endedAt;
        },
        // Ends once the restarted backend served again (reconnect backoff starts at 1 s).
        stopWhen: () => backAt !== undefined,
      });
      await script;
      client.close();
      expect(result.failures).toBe(0);
      expect(servedBy(events, victim.host, 0, killedAt)).toBeGreaterThan(0);
      // Only calls in flight on it at the kill were retried: about the concurrency, far fewer than the load.
      expect(retries.length).toBeLessThanOrEqual(20 * 2);
      expect(servedBy(events, victim.host, killedAt! + 100, restartedAt)).toBe(0);
      const others =
        servedBy(events, "127.0.0.1", killedAt!, restartedAt) + servedBy(events, "127.0.0.2", killedAt!, restartedAt);
      expect(others).toBeGreaterThan(0);
      console.log(
        `${name}: ${result.calls} calls, 0 failures, ${retries.length} retried attempts after SIGKILL; ` +
          `restarted backend served again ${backAt ? `${(backAt - restartedAt!).toFixed(0)} ms` : "never"} after it listened`,
      );
      expect(backAt).toBeDefined();
    });
  },
);

test("a backend killed under load: a non-idempotent method fails only for the calls in flight on it", async () => {
  const { target, backends } = await threeBackends();
  const client = createRouteGuideClient({ target, strategy: strategies()[1]![1] });
  let killedAt: number | undefined;
  const failures: CallEvent[] = [];
  let servedAfterKill = 0;
  const script = (async () => {
    await delay(1_500);
    await backends[2]!.kill();
    killedAt = performance.now();
  })();
  const result = await runLoad(() => client.getFeature({ latitude: 1, longitude: 1 }), {
    concurrency: 20,
    durationMs: 15_000,
    onEnd: (event) => {
      if (event.error !== undefined) failures.push(event);
      else if (killedAt !== undefined && event.startedAt > killedAt) servedAfterKill++;
    },
    stopWhen: () => servedAfterKill >= 2_000,
  });
  await script;
  client.close();
  console.log(`GetFeature (not idempotent): ${result.calls} calls, ${failures.length} failed at the SIGKILL`);
  expect(failures.length).toBeLessThanOrEqual(20); // at most the calls in flight
  for (const { error } of failures) expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
  expect(servedAfterKill).toBeGreaterThan(0);
});

test("a hung backend (SIGSTOP) is left within 2 s with keepalive, and used again after SIGCONT", async () => {
  const { target, backends } = await threeBackends();
  const victim = backends[2]!;
  const retried: number[] = [];
  const client = createGreeterClient({ target, strategy: strategies()[1]![1], keepalive: true });
  let stoppedAt: number | undefined;
  let continuedAt: number | undefined;
  let backAt: number | undefined;
  const served: Served[] = [];
  const script = (async () => {
    await delay(1_500);
    victim.signal("SIGSTOP");
    stoppedAt = performance.now();
    await delay(3_500);
    victim.signal("SIGCONT");
    continuedAt = performance.now();
  })();
  const result = await runLoad(sayHelloFrom(client, "hang", retried), {
    concurrency: 20,
    durationMs: 20_000,
    onEnd: (event) => {
      served.push(event);
      if (continuedAt !== undefined && backAt === undefined && event.value === victim.host) backAt = event.endedAt;
    },
    stopWhen: () => backAt !== undefined,
  });
  await script;
  client.close();
  expect(result.failures).toBe(0);
  // The calls stuck on the hung backend end when keepalive drops its
  // connection; they are retried elsewhere. The last of them marks when the
  // client stopped sending to it.
  const stuck = retried.filter((t) => t > stoppedAt! && t < continuedAt!);
  const detected = Math.max(...stuck);
  console.log(
    `SIGSTOP: ${retried.length} stuck calls retried; hung backend left ${(detected - stoppedAt!).toFixed(0)} ms after SIGSTOP`,
  );
  expect(stuck.length).toBeGreaterThan(0);
  expect(detected - stoppedAt!).toBeLessThan(2_000 + 1_500); // the promise is 2 s; slack for CI
  const healthy = served.filter((s) => s.endedAt > detected && s.endedAt < continuedAt!).length;
  expect(healthy).toBeGreaterThan(0);
  expect(backAt).toBeDefined();
});
