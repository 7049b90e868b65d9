import { median, runLoad } from "../harness/load.js";
import { startServeProcess } from "../harness/serve-process.js";
import { table } from "../harness/table.js";
import { pickFirst, pool, roundRobin } from "../src/strategy.js";
import { type BenchClient, plainNiceGrpc, rawGrpcJs, sdk, sdkWithoutMiddleware } from "./clients.js";
import { pickCost } from "./pick-cost.js";
import { measureRss } from "./rss.js";

/** Options of the `bench` command. */
export interface BenchOptions {
  /** Interleaved rounds (A B A B …); each cell's median is reported. */
  rounds: number;
  /** Load per cell, ms. */
  durationMs: number;
  concurrencies: number[];
  poolSizes: number[];
  json: boolean;
}

const STREAM_FEATURES = 1_000;
const RECTANGLE = {
  lo: { latitude: 390_000_000, longitude: -760_000_000 },
  hi: { latitude: 410_000_000, longitude: -730_000_000 },
};

/**
 * Side by side in one run, the server in its own process: raw grpc-js and
 * plain nice-grpc on one channel against the SDK's strategies, with and
 * without the default middleware, at each concurrency; server-streaming
 * messages/s; the pool's pick cost; client RSS per pooled connection.
 * Speed is reported, never asserted.
 */
export async function runBench(options: BenchOptions): Promise<void> {
  const log = (line = "") => (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  const server = await startServeProcess("127.0.0.1", 0, ["--route-features", String(STREAM_FEATURES)]);
  const target = server.address;
  const makers: (() => BenchClient)[] = [
    () => rawGrpcJs(target),
    () => plainNiceGrpc(target),
    () => sdk(target, "SDK pickFirst()", pickFirst()),
    () => sdkWithoutMiddleware(target, "SDK pickFirst(), no middleware", pickFirst()),
    () => sdk(target, "SDK roundRobin()", roundRobin()),
    () => sdkWithoutMiddleware(target, "SDK roundRobin(), no middleware", roundRobin()),
    () => sdk(target, "SDK pool(4), pick p2c", pool(4, { pick: "p2c" })),
    () => sdkWithoutMiddleware(target, "SDK pool(4), pick p2c, no middleware", pool(4, { pick: "p2c" })),
    () => sdk(target, "SDK pool(4), pick roundRobin", pool(4, { pick: "roundRobin" })),
    () => sdkWithoutMiddleware(target, "SDK pool(4), pick roundRobin, no middleware", pool(4, { pick: "roundRobin" })),
  ];
  const clients = makers.map((make) => make());
  const unary = new Map<string, number[]>(); // `${client}@${c}` → calls/s per round
  const streaming = new Map<string, number[]>(); // client → messages/s per round
  const streamClients = [clients[0]!, clients[1]!, clients[6]!];
  try {
    for (const client of clients) await runLoad(client.unary, { concurrency: 20, durationMs: 1_000, maxCalls: 1_000 });
    log(
      `unary: ${clients.length} clients × c=${options.concurrencies.join("/")} × ${options.rounds} rounds of ${options.durationMs} ms, interleaved`,
    );
    for (let round = 0; round < options.rounds; round++) {
      for (const concurrency of options.concurrencies) {
        for (const client of clients) {
          const result = await runLoad(client.unary, { concurrency, durationMs: options.durationMs });
          const key = `${client.name}@${concurrency}`;
          unary.set(key, [...(unary.get(key) ?? []), result.failures === 0 ? result.callsPerSecond : NaN]);
        }
      }
      for (const client of streamClients) {
        let messages = 0;
        const result = await runLoad(async () => (messages += await client.stream(RECTANGLE)), {
          concurrency: 10,
          durationMs: options.durationMs,
        });
        streaming.set(client.name, [...(streaming.get(client.name) ?? []), messages / result.seconds]);
      }
      log(`  round ${round + 1}/${options.rounds} done`);
    }
  } finally {
    for (const client of clients) client.close();
  }

  const picks = (["roundRobin", "p2c"] as const).flatMap((policy) =>
    [4, 64].map((size) => ({ policy, size, ns: pickCost(policy, size) })),
  );
  const rss = [];
  for (const size of options.poolSizes) rss.push(await measureRss(target, size));
  await server.stop();

  // Report.
  const cell = (name: string, c: number) => median(unary.get(`${name}@${c}`) ?? []);
  const top = Math.max(...options.concurrencies);
  const raw = clients[0]!.name;
  const nice = clients[1]!.name;
  const rows = clients.map((client) => ({
    client: client.name,
    callsPerSecond: Object.fromEntries(options.concurrencies.map((c) => [c, cell(client.name, c)])),
    vsGrpcJs: cell(client.name, top) / cell(raw, top),
    vsNiceGrpc: cell(client.name, top) / cell(nice, top),
  }));
  log();
  log(
    table(
      ["client", ...options.concurrencies.map((c) => `c=${c} calls/s`), `vs grpc-js c=${top}`, `vs nice-grpc c=${top}`],
      rows.map((r) => [
        r.client,
        ...options.concurrencies.map((c) => r.callsPerSecond[c]!.toFixed(0)),
        `${r.vsGrpcJs.toFixed(2)}×`,
        `${r.vsNiceGrpc.toFixed(2)}×`,
      ]),
    ),
  );
  const streams = streamClients.map((c) => ({
    client: c.name,
    messagesPerSecond: median(streaming.get(c.name) ?? []),
  }));
  log();
  log(`server streaming: ListFeatures of ${STREAM_FEATURES} messages, c=10`);
  log(
    table(
      ["client", "messages/s", "vs grpc-js"],
      streams.map((s) => [
        s.client,
        s.messagesPerSecond.toFixed(0),
        `${(s.messagesPerSecond / streams[0]!.messagesPerSecond).toFixed(2)}×`,
      ]),
    ),
  );
  log();
  log(
    table(
      ["pick", "members", "ns per pick"],
      picks.map((p) => [p.policy, String(p.size), p.ns.toFixed(1)]),
    ),
  );
  const base = rss.find((r) => r.size === 1);
  const rssRows = rss.map((r) => ({
    ...r,
    perExtraConnectionMb:
      base && r.size > 1 ? (r.rssMb - r.baselineMb - (base.rssMb - base.baselineMb)) / (r.size - 1) : undefined,
  }));
  log();
  log(
    table(
      ["pool(n)", "connections up", "client RSS MB", "over baseline MB", "MB per extra connection"],
      rssRows.map((r) => [
        String(r.size),
        String(r.connectedMembers),
        r.rssMb.toFixed(1),
        (r.rssMb - r.baselineMb).toFixed(1),
        r.perExtraConnectionMb?.toFixed(3) ?? "-",
      ]),
    ),
  );

  const poolRow = rows.find((r) => r.client === "SDK pool(4), pick p2c")!;
  const worstPick = Math.max(...picks.map((p) => p.ns));
  const perConnection = Math.max(...rssRows.map((r) => r.perExtraConnectionMb ?? 0));
  const targets = [
    { target: `pool(4) ≥ 1.0× plain nice-grpc at c=${top}`, value: poolRow.vsNiceGrpc, met: poolRow.vsNiceGrpc >= 1.0 },
    { target: `pool(4) ≥ 0.9× raw grpc-js at c=${top}`, value: poolRow.vsGrpcJs, met: poolRow.vsGrpcJs >= 0.9 },
    { target: "pick cost ≤ 1 µs", value: worstPick, met: worstPick <= 1_000 },
    { target: "≤ 0.5 MB RSS per extra pooled connection", value: perConnection, met: perConnection <= 0.5 },
  ];
  log();
  log(
    table(
      ["target", "measured", "met"],
      targets.map((t) => [t.target, t.value.toFixed(3), t.met ? "yes" : "no"]),
    ),
  );
  const machine = {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: (await import("node:os")).cpus().length,
  };
  process.stdout.write(
    `${JSON.stringify({ bench: "balanced-grpc", machine, options, unary: rows, streaming: streams, picks, rss: rssRows, targets })}\n`,
  );
}
