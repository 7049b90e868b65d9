import { setTimeout as delay } from "node:timers/promises";
import { type ClientError, pool, roundRobin, Status, type Strategy } from "balanced-grpc";
import { afterEach, expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import type { Backends } from "../../harness/backend-group.js";
import { type CallEvent, runLoad } from "../../harness/load.js";
import { backendOf } from "../../harness/reference/greeter.js";
import { type SignalledBackend, spawnSignalledBackends } from "../../harness/signalled-backend.js";

// A rolling deploy as an orchestrator does it: three servers made with
// startServer({ handleSignals: true }) on 127.0.0.1-3 and one port, each in
// turn sent SIGTERM, waited for, and started again on its address, while two
// clients (roundRobin() and pool(2)) each keep 30 calls in flight that are
// never retried. Every call must succeed: the drain keeps serving for
// delayMs, then GOAWAY sends new calls elsewhere (a refused stream was never
// processed: the client sends it again), and the calls in flight finish. The
// next server goes only once both clients use the restarted one again, as an
// orchestrator waits for readiness (instants recorded, not waited for).
// Each replacement process is loaded beforehand, so a restart costs a listen,
// not the second or more Node takes to load the code on a busy machine.

const DRAIN = { delayMs: 300, timeoutMs: 5_000 };
const CLIENTS: [string, Strategy][] = [
  ["roundRobin()", roundRobin()],
  ["pool(2)", pool(2)],
];

let group: Backends<SignalledBackend> | undefined;
afterEach(async () => {
  await Promise.all(group?.list.map((b) => b.kill()) ?? []);
  group = undefined;
});

interface Restart {
  host: string;
  code: number | null;
  /** From SIGTERM to the exit, ms. */
  tookMs: number;
  /** From the exit to the new process listening, ms. */
  startMs: number;
  /** From listening to every client having a call served by it, ms. */
  usedAgainAfterMs: number;
}

test("a rolling restart by SIGTERM under load: 0 failed calls, none retried; each server exits 0 within delayMs + timeoutMs", async () => {
  group = await spawnSignalledBackends(3, { slowMs: 5, drain: DRAIN }, { prepare: true });
  const backends = group.list;
  const target = group.target;
  const clients = CLIENTS.map(([name, strategy]) => ({
    name,
    client: createGreeterClient({ target, strategy }),
    /** When each backend last served one of its calls (performance.now()). */
    lastServed: new Map<string, number>(),
    failures: [] as CallEvent[],
  }));
  const restarts: Restart[] = [];
  let done = false;
  /** Waits until every client had a call served by `host` after `since`; returns the last of those instants. */
  const usedSince = async (host: string, since: number) => {
    const until = performance.now() + 20_000;
    while (clients.some((c) => (c.lastServed.get(host) ?? 0) < since)) {
      if (performance.now() > until) throw new Error(`${host} not used again within 20 s`);
      await delay(10);
    }
    return Math.max(...clients.map((c) => c.lastServed.get(host)!));
  };
  const script = (async () => {
    try {
      for (const b of backends) await usedSince(b.host, 0);
      for (const b of backends) {
        const exit = await b.terminate();
        await b.start();
        const usedAt = await usedSince(b.host, b.listeningAt);
        restarts.push({
          host: b.host,
          code: exit.code,
          tookMs: exit.tookMs,
          startMs: b.listeningAt - exit.at,
          usedAgainAfterMs: usedAt - b.listeningAt,
        });
      }
    } finally {
      done = true;
    }
  })();
  const results = await Promise.all(
    clients.map(({ client, lastServed, failures }) =>
      runLoad(
        async () => {
          let backend: string | undefined;
          await client.sayHello({ name: "deploy" }, { retry: false, onHeader: (h) => (backend = backendOf(h)) });
          if (backend !== undefined) lastServed.set(backend, performance.now());
        },
        {
          concurrency: 30,
          durationMs: 60_000,
          stopWhen: () => done,
          onEnd: (event) => void (event.error !== undefined && failures.push(event)),
        },
      ),
    ),
  );
  await script;
  for (const { client } of clients) client.close();
  const report = restarts.map(
    (r) =>
      `${r.host} exited ${r.code} ${r.tookMs.toFixed(0)} ms after SIGTERM, listened again ${r.startMs.toFixed(0)} ms ` +
      `later, used by both clients ${r.usedAgainAfterMs.toFixed(0)} ms after that`,
  );
  const calls = clients.map((c, i) => `${c.name} ${results[i]!.calls} calls, ${results[i]!.failures} failed`);
  console.log(`rolling restart: ${calls.join(", ")}\n  ${report.join("\n  ")}`);
  expect(restarts).toHaveLength(3);
  for (const r of restarts) {
    expect(r.code).toBe(0);
    expect(r.tookMs).toBeLessThan(DRAIN.delayMs + DRAIN.timeoutMs);
  }
  for (const { name, failures } of clients) {
    const failed = failures.map((f) => `${Status[(f.error as ClientError).code]}: ${(f.error as Error).message}`);
    expect({ name, failed }).toEqual({ name, failed: [] });
  }
});
