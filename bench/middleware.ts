// Overhead of the SDK's default middleware stack (call options, deadline,
// retry) against no middleware at all, on the same pool(4) channel type.
// Interleaved (A B A B …), server in another process, c=100.
import { type Channel, createClient } from "nice-grpc";
import { GreeterDefinition } from "../generated/helloworld/helloworld.js";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { type LoadResult, median, runLoad } from "../harness/load.js";
import { spawnServers } from "../harness/spawn-servers.js";
import { table } from "../harness/table.js";
import { createChannel } from "../src/create-channel.js";
import { pool } from "../src/strategy.js";
import { report } from "./output.js";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 3);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 100);

type Variant = "no middleware" | "default stack" | "default stack + deadline";
const variants: Variant[] = ["no middleware", "default stack", "default stack + deadline"];

function makeClient(variant: Variant, target: string) {
  if (variant === "no middleware") {
    const channel = createChannel(target, pool(4));
    const client = createClient(GreeterDefinition, channel as unknown as Channel);
    return { call: () => client.sayHello({ name: "bench" }), close: () => channel.close() };
  }
  const client = createGreeterClient({ target, strategy: pool(4) });
  const options = variant === "default stack + deadline" ? { deadline: 10_000 } : {};
  return { call: () => client.sayHello({ name: "bench" }, options), close: () => client.close() };
}

const servers = await spawnServers({ BACKENDS: "1" });
const runs = new Map<Variant, LoadResult[]>(variants.map((v) => [v, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of variants) {
      const client = makeClient(variant, servers.addresses[0]!);
      await runLoad(client.call, { concurrency: 20, durationMs: 1000, maxCalls: 1000 });
      runs.get(variant)!.push(await runLoad(client.call, { concurrency: CONCURRENCY, durationMs: SECONDS * 1000 }));
      client.close();
    }
  }
} finally {
  await servers.stop();
}
const summary = variants.map((variant) => ({
  variant,
  callsPerSecond: median(runs.get(variant)!.map((r) => r.callsPerSecond)),
  p50Ms: median(runs.get(variant)!.map((r) => r.p50Ms)),
  failures: runs.get(variant)!.reduce((n, r) => n + r.failures, 0),
}));
const base = summary[0]!.callsPerSecond;
report(
  "middleware",
  [
    `SayHello over pool(4), one server in another process; c=${CONCURRENCY}, ${ROUNDS} × ${SECONDS} s interleaved, medians`,
    table(
      ["client", "calls/s", "vs none", "p50 ms", "failures"],
      summary.map((s) => [
        s.variant,
        s.callsPerSecond.toFixed(0),
        `${(s.callsPerSecond / base).toFixed(2)}×`,
        s.p50Ms.toFixed(2),
        String(s.failures),
      ]),
    ),
  ].join("\n"),
  { concurrency: CONCURRENCY, summary },
);
