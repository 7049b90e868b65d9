import { afterEach, describe, expect, test } from "vitest";
import { freePort } from "../harness/backends.js";
import { type BackendProcess, spawnBackend } from "../harness/processes.js";
import {
  type ClientError,
  createGreeterClient,
  createRouteGuideClient,
  pool,
  roundRobin,
  Status,
  type Strategy,
} from "../src/index.js";

let processes: BackendProcess[] = [];
afterEach(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  processes = [];
});

async function threeBackends(): Promise<{ port: number; target: string; backends: BackendProcess[] }> {
  const port = await freePort();
  const backends = await Promise.all(["127.0.0.1", "127.0.0.2", "127.0.0.3"].map((host) => spawnBackend(host, port)));
  processes.push(...backends);
  return { port, target: `ipv4:${backends.map((b) => b.address).join(",")}`, backends };
}

interface Served {
  at: number;
  backend: string;
}

/**
 * Runs `call` with `concurrency` workers for `durationMs` (and at most
 * `maxCalls`), running `events` at their times; records which backend served
 * each successful call and every failure.
 */
async function load(
  call: (onHeader: (backend: string | undefined) => void) => Promise<unknown>,
  { concurrency, durationMs, events }: { concurrency: number; durationMs: number; events: [number, () => unknown][] },
) {
  const start = performance.now();
  const served: Served[] = [];
  const failures: { at: number; error: unknown }[] = [];
  const timers = events.map(([at, run]) => setTimeout(run, at));
  let started = 0;
  const worker = async () => {
    while (performance.now() - start < durationMs && started < 200_000) {
      started++;
      let backend: string | undefined;
      try {
        await call((b) => (backend = b));
        served.push({ at: performance.now() - start, backend: backend ?? "?" });
      } catch (error) {
        failures.push({ at: performance.now() - start, error });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  timers.forEach(clearTimeout);
  return { served, failures };
}

const servedBy = (served: Served[], backend: string, from: number, to = Infinity) =>
  served.filter((s) => s.backend === backend && s.at >= from && s.at < to).length;

describe.each([
  ["roundRobin()", roundRobin()],
  ["pool(2)", pool(2)],
] as [string, Strategy][])("a backend killed (SIGKILL) under load, %s", (_name, strategy) => {
  test("idempotent SayHello: 0 failures, traffic leaves it, and it is used again once back", async () => {
    const { port, target, backends } = await threeBackends();
    const victim = backends[2]!;
    const retries: number[] = [];
    const client = createGreeterClient({ target, strategy });
    let killedAt = 0;
    let restartedAt = 0;
    const { served, failures } = await load(
      (onHeader) =>
        client.sayHello(
          { name: "kill" },
          { onHeader: (h) => onHeader(h.get("x-backend")), onRetryableError: () => retries.push(performance.now()) },
        ),
      {
        concurrency: 20,
        durationMs: 9_000,
        events: [
          [1_500, () => ((killedAt = 1_500), victim.signal("SIGKILL"))],
          [
            3_000,
            async () => {
              const back = await spawnBackend("127.0.0.3", port);
              processes.push(back);
              restartedAt = 3_000;
            },
          ],
        ],
      },
    );
    client.close();
    expect(failures).toEqual([]);
    expect(servedBy(served, "127.0.0.3", 0, killedAt)).toBeGreaterThan(0);
    // Only calls in flight on it at the kill were retried: far fewer than the load.
    expect(retries.length).toBeLessThanOrEqual(20 * 2);
    expect(servedBy(served, "127.0.0.3", killedAt + 100, restartedAt)).toBe(0);
    expect(
      servedBy(served, "127.0.0.1", killedAt, restartedAt) + servedBy(served, "127.0.0.2", killedAt, restartedAt),
    ).toBeGreaterThan(0);
    // Back: reconnect backoff starts at 1 s; leave a loaded machine slack.
    const firstBack = served.find((s) => s.backend === "127.0.0.3" && s.at > restartedAt);
    console.log(
      `${_name}: ${served.length} calls, 0 failures, ${retries.length} retried attempts after SIGKILL; restarted backend served again ${firstBack ? `${(firstBack.at - restartedAt).toFixed(0)} ms` : "never"} after it listened`,
    );
    expect(firstBack).toBeDefined();
  });
});

test("a backend killed under load: a non-idempotent method fails only for the calls in flight on it", async () => {
  const { target, backends } = await threeBackends();
  const client = createRouteGuideClient({ target, strategy: roundRobin() });
  const { served, failures } = await load(() => client.getFeature({ latitude: 1, longitude: 1 }), {
    concurrency: 20,
    durationMs: 4_000,
    events: [[1_500, () => backends[2]!.signal("SIGKILL")]],
  });
  client.close();
  console.log(`GetFeature (not idempotent): ${served.length} calls, ${failures.length} failed at the SIGKILL`);
  expect(failures.length).toBeLessThanOrEqual(20); // at most the calls in flight
  for (const { error } of failures) expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
  expect(served.filter((s) => s.at > 2_000).length).toBeGreaterThan(0);
});

test("a hung backend (SIGSTOP) is left within 2 s with keepalive, and used again after SIGCONT", async () => {
  const { target, backends } = await threeBackends();
  const victim = backends[2]!;
  const retried: number[] = [];
  const client = createGreeterClient({ target, strategy: roundRobin(), keepalive: true });
  const stoppedAt = 1_500;
  const continuedAt = 5_000;
  const started = performance.now();
  const { served, failures } = await load(
    (onHeader) =>
      client.sayHello(
        { name: "hang" },
        {
          onHeader: (h) => onHeader(h.get("x-backend")),
          onRetryableError: () => retried.push(performance.now() - started),
        },
      ),
    {
      concurrency: 20,
      durationMs: 9_000,
      events: [
        [stoppedAt, () => victim.signal("SIGSTOP")],
        [continuedAt, () => victim.signal("SIGCONT")],
      ],
    },
  );
  client.close();
  expect(failures).toEqual([]);
  // The calls stuck on the hung backend end when keepalive drops its
  // connection; they are retried elsewhere. The last of them marks when the
  // client stopped sending to it.
  const detected = Math.max(...retried.filter((t) => t > stoppedAt && t < continuedAt));
  console.log(
    `SIGSTOP: ${retried.length} stuck calls retried; hung backend left ${(detected - stoppedAt).toFixed(0)} ms after SIGSTOP`,
  );
  expect(retried.length).toBeGreaterThan(0);
  expect(detected - stoppedAt).toBeLessThan(2_000 + 1_500); // the promise is 2 s; slack for CI
  const healthy = served.filter((s) => s.at > detected && s.at < continuedAt).length;
  expect(healthy).toBeGreaterThan(0);
  expect(served.some((s) => s.backend === "127.0.0.3" && s.at > continuedAt)).toBe(true);
});
