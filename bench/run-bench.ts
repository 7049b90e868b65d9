import { cpus } from "node:os";
import { pool } from "balanced-grpc";
import { spawnBackend } from "../harness/backend-process.js";
import { type BenchServer, buildGoServer, startGoServer } from "../harness/go-server.js";
import { median } from "../harness/load.js";
import { strategies } from "../harness/strategies.js";
import { table } from "../harness/table.js";
import { type BenchClient, bareCall, plainNiceGrpc, rawGrpcJs, sdk, type Variant } from "./clients.js";
import { type Cell, measure } from "./measure.js";
import { measureRss } from "./rss.js";

/** Options of the `bench` command. */
export interface BenchOptions {
  /** Interleaved rounds (A B A B …); each cell's median is reported. */
  rounds: number;
  /** Load per cell, ms. */
  durationMs: number;
  concurrencies: number[];
  poolSizes: number[];
  /** Use a Node server even when Go is available. */
  nodeServer: boolean;
  /** Unary at the top concurrency only, no streaming, no RSS: a smoke run. */
  quick: boolean;
  json: boolean;
}

/** Messages per streaming call. */
const STREAM_MESSAGES = 1_000;
/** Streams in flight in the streaming cells. */
const STREAM_CONCURRENCY = 10;
const DEADLINE_MS = 10_000;

const DEFAULT: Variant = { label: "default" };
const WITH_DEADLINE: Variant = { label: "deadline on every call", deadlineMs: DEADLINE_MS };
const WITH_MIDDLEWARE: Variant = { label: "one pass-through middleware", middleware: true };
const NO_HEALTH_CHECK: Variant = { label: "healthCheck: false", noHealthCheck: true };

type Kind = "unary" | "serverStream" | "clientStream" | "bidi";
const KINDS: Kind[] = ["serverStream", "clientStream", "bidi"];

interface Subject {
  client: Pick<BenchClient, "name" | "unary" | "close"> & Partial<BenchClient>;
  strategy: string;
  /** "raw grpc-js", "SDK", or a reference client. */
  library: string;
  variant: string;
}

/**
 * The client benchmark: raw grpc-js (grpc-js's own client with the same load
 * balancing and connection count) against the SDK, per strategy, side by
 * side in one run, interleaved (A B A B …), medians over rounds; against a
 * server that is not the bottleneck (Go, built here when Go is installed).
 * Speed is reported, never asserted: it prints tables and one JSON line.
 */
export async function runBench(options: BenchOptions): Promise<void> {
  const log = (line = "") => (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  const server = await startServer(options.nodeServer, log);
  const target = server.address;
  const top = Math.max(...options.concurrencies);
  const concurrencies = options.quick ? [top] : options.concurrencies;
  const subjects: Subject[] = [];
  for (const [name, strategy] of strategies(4)) {
    for (const variant of [DEFAULT, WITH_DEADLINE, WITH_MIDDLEWARE]) {
      if (variant !== WITH_MIDDLEWARE) {
        subjects.push(
          subject(
            rawGrpcJs(target, strategy, `raw grpc-js ${name}, ${variant.label}`, variant),
            name,
            "raw grpc-js",
            variant,
          ),
        );
      }
      subjects.push(subject(sdk(target, strategy, `SDK ${name}, ${variant.label}`, variant), name, "SDK", variant));
    }
  }
  // The adaptive pool beside a fixed one, unary only: what sizing itself costs
  // per call, and how many connections it opens, against a server with no
  // stream limit (it should stay at one).
  const unaryOnly = ({ name, unary, close, connections }: BenchClient) => ({
    name,
    unary,
    close,
    connections: connections ?? (() => 0),
  });
  const fixedPool = unaryOnly(sdk(target, pool(2), "SDK pool(2), default", DEFAULT));
  const adaptivePool = unaryOnly(sdk(target, pool(), "SDK pool() adaptive, default", DEFAULT));
  const fixedSubject: Subject = { client: fixedPool, strategy: "pool(2)", library: "SDK", variant: DEFAULT.label };
  // And one without health checking: what a Watch per connection costs per call (the server serves grpc.health.v1).
  const unchecked = unaryOnly(sdk(target, pool(2), "SDK pool(2), healthCheck: false", NO_HEALTH_CHECK));
  const uncheckedSubject: Subject = {
    client: unchecked,
    strategy: "pool(2)",
    library: "SDK",
    variant: NO_HEALTH_CHECK.label,
  };
  const adaptiveSubject: Subject = { client: adaptivePool, strategy: "pool()", library: "SDK", variant: DEFAULT.label };
  subjects.push(fixedSubject, adaptiveSubject, uncheckedSubject);
  let adaptiveConnections = 0;
  subjects.push({
    client: bareCall(target),
    strategy: "pickFirst()",
    library: "bare createCall",
    variant: DEFAULT.label,
  });
  subjects.push({
    client: plainNiceGrpc(target),
    strategy: "pickFirst()",
    library: "nice-grpc",
    variant: DEFAULT.label,
  });

  // ONLY=<part>[,<part>…]: only the clients whose name contains one of the parts, for a
  // focused side by side with more rounds (ONLY="SDK pool(2)" npm run bench -- --quick --rounds 12).
  const only = process.env.ONLY?.split(",").filter((part) => part !== "");
  if (only) {
    const kept = subjects.filter((s) => only.some((part) => s.client.name.includes(part)));
    for (const s of subjects) if (!kept.includes(s)) s.client.close();
    subjects.splice(0, subjects.length, ...kept);
  }

  const cells = new Map<string, Cell[]>();
  const key = (s: Subject, kind: Kind, c: number) => `${s.client.name}|${kind}|${c}`;
  const record = (s: Subject, kind: Kind, c: number, cell: Cell) =>
    cells.set(key(s, kind, c), [...(cells.get(key(s, kind, c)) ?? []), cell]);
  try {
    for (const s of subjects) {
      await measure(s.client.unary, { concurrency: 20, durationMs: Math.min(500, options.durationMs) }); // warm up
    }
    const collected = typeof (globalThis as { gc?: unknown }).gc === "function";
    log(
      `unary: ${subjects.length} clients, c=${concurrencies.join("/")}, ${options.rounds} rounds of ${options.durationMs} ms, interleaved, order reversed every other round${collected ? ", heap collected before each cell" : ""}`,
    );
    for (let round = 0; round < options.rounds; round++) {
      // A B … B A: every other round runs the clients in reverse, so no
      // client always runs right after the same neighbour (order effects
      // such as a warmer server or a busier heap cancel out over rounds).
      const order = round % 2 === 0 ? subjects : [...subjects].reverse();
      for (const c of concurrencies) {
        for (const s of order) {
          // Deadline and middleware variants: at the top concurrency only.
          if (s.variant !== DEFAULT.label && c !== top) continue;
          record(s, "unary", c, await measure(s.client.unary, { concurrency: c, durationMs: options.durationMs }));
          if (s === adaptiveSubject) adaptiveConnections = Math.max(adaptiveConnections, adaptivePool.connections());
        }
      }
      if (!options.quick) {
        for (const kind of KINDS) {
          for (const s of order.filter((x) => x.variant === DEFAULT.label && x.client[kind])) {
            const run = s.client[kind]!.bind(s.client, STREAM_MESSAGES) as () => Promise<number>;
            record(
              s,
              kind,
              STREAM_CONCURRENCY,
              await measure(run, { concurrency: STREAM_CONCURRENCY, durationMs: options.durationMs }),
            );
          }
        }
      }
      log(`  round ${round + 1}/${options.rounds} done`);
    }
  } finally {
    for (const s of subjects) s.client.close();
  }
  const rss = [];
  if (!options.quick) for (const size of options.poolSizes) rss.push(await measureRss(target, size));
  await server.stop();

  // --- Report ---------------------------------------------------------------
  const cell = (s: Subject, kind: Kind, c: number): Cell | undefined => {
    const list = cells.get(key(s, kind, c));
    if (!list) return undefined;
    const of = (f: (x: Cell) => number) => median(list.map(f));
    return {
      callsPerSecond: of((x) => x.callsPerSecond),
      cpuUsPerCall: of((x) => x.cpuUsPerCall),
      p50Ms: of((x) => x.p50Ms),
      p99Ms: of((x) => x.p99Ms),
      failures: list.reduce((n, x) => n + x.failures, 0),
      messagesPerSecond: of((x) => x.messagesPerSecond),
    };
  };
  const rawOf = (s: Subject) =>
    subjects.find(
      (r) =>
        r.library === "raw grpc-js" &&
        r.strategy === s.strategy &&
        r.variant === (s.variant === WITH_MIDDLEWARE.label ? DEFAULT.label : s.variant),
    );
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? NaN : a / b;
  // Ratios to raw grpc-js are taken round by round, between cells measured
  // one after the other, and their median reported: a shared machine's speed
  // drifts over a run far more than between two neighbouring cells.
  const paired = (s: Subject, kind: Kind, c: number, metric: (cell: Cell) => number, raw = rawOf(s)): number => {
    const mine = cells.get(key(s, kind, c));
    const theirs = raw ? cells.get(key(raw, kind, c)) : undefined;
    if (!mine || !theirs) return NaN;
    return median(mine.map((m, round) => ratio(metric(m), theirs[round] ? metric(theirs[round]!) : undefined)));
  };
  const x = (n: number) => (Number.isNaN(n) ? "-" : `${n.toFixed(2)}×`);

  const unaryRows = subjects.map((s) => {
    const at = Object.fromEntries(concurrencies.map((c) => [c, cell(s, "unary", c)]));
    const mine = at[top];
    return {
      client: s.client.name,
      strategy: s.strategy,
      library: s.library,
      variant: s.variant,
      callsPerSecond: Object.fromEntries(concurrencies.map((c) => [c, at[c]?.callsPerSecond])),
      top: mine,
      c1: at[1],
      vsRawCalls: paired(s, "unary", top, (c) => c.callsPerSecond),
      vsRawCpu: paired(s, "unary", top, (c) => c.cpuUsPerCall),
      vsRawP99: paired(s, "unary", top, (c) => c.p99Ms),
      vsRawC1: concurrencies.includes(1)
        ? { p50: paired(s, "unary", 1, (c) => c.p50Ms), p99: paired(s, "unary", 1, (c) => c.p99Ms) }
        : undefined,
    };
  });
  log();
  log(
    `unary SayHello against ${server.kind}; calls/s per concurrency; at c=${top}: client CPU per call, latency, ratios to raw grpc-js (same strategy and variant)`,
  );
  log(
    table(
      [
        "client",
        ...concurrencies.map((c) => `c=${c}`),
        "CPU µs/call",
        "p50 ms",
        "p99 ms",
        "fails",
        "calls/s vs raw",
        "CPU vs raw",
      ],
      unaryRows.map((r) => [
        r.client,
        ...concurrencies.map((c) => r.callsPerSecond[c]?.toFixed(0) ?? "-"),
        r.top?.cpuUsPerCall.toFixed(1) ?? "-",
        r.top?.p50Ms.toFixed(2) ?? "-",
        r.top?.p99Ms.toFixed(2) ?? "-",
        String(r.top?.failures ?? "-"),
        x(r.vsRawCalls),
        x(r.vsRawCpu),
      ]),
    ),
  );

  const streamRows = options.quick
    ? []
    : KINDS.flatMap((kind) =>
        subjects
          .filter((s) => s.variant === DEFAULT.label && (s.library === "SDK" || s.library === "raw grpc-js"))
          .map((s) => {
            const mine = cell(s, kind, STREAM_CONCURRENCY);
            return {
              kind,
              client: s.client.name,
              strategy: s.strategy,
              library: s.library,
              messagesPerSecond: mine?.messagesPerSecond,
              cpuUsPerMessage: mine ? mine.cpuUsPerCall / STREAM_MESSAGES : undefined,
              vsRaw: paired(s, kind, STREAM_CONCURRENCY, (c) => c.messagesPerSecond),
            };
          }),
      );
  if (streamRows.length > 0) {
    log();
    log(
      `streaming: ${STREAM_MESSAGES} messages per call, ${STREAM_CONCURRENCY} calls in flight; bidi counts the messages received`,
    );
    log(
      table(
        ["call", "client", "messages/s", "CPU µs/message", "vs raw"],
        streamRows.map((r) => [
          r.kind,
          r.client,
          r.messagesPerSecond?.toFixed(0) ?? "-",
          r.cpuUsPerMessage?.toFixed(2) ?? "-",
          x(r.vsRaw),
        ]),
      ),
    );
  }

  if (rss.length > 0) {
    const base = rss.find((r) => r.size === 1);
    log();
    log(
      table(
        ["pool(n)", "connections up", "client RSS MB", "over baseline MB", "MB per extra connection"],
        rss.map((r) => [
          String(r.size),
          String(r.connections),
          r.rssMb.toFixed(1),
          (r.rssMb - r.baselineMb).toFixed(1),
          base && r.size > 1
            ? ((r.rssMb - r.baselineMb - (base.rssMb - base.baselineMb)) / (r.size - 1)).toFixed(3)
            : "-",
        ]),
      ),
    );
  }

  // --- Goals (issue: the default client faster than raw grpc-js) -------------
  const goals: { goal: string; measured: number; met: boolean }[] = [];
  const sdkRow = (strategy: string, variant: string) =>
    unaryRows.find((r) => r.library === "SDK" && r.strategy === strategy && r.variant === variant);
  for (const [name] of strategies(4)) {
    const d = sdkRow(name, DEFAULT.label);
    const dl = sdkRow(name, WITH_DEADLINE.label);
    const mw = sdkRow(name, WITH_MIDDLEWARE.label);
    const goal = (text: string, measured: number, met: boolean) =>
      goals.push({ goal: `${name} ${text}`, measured, met });
    if (d) {
      goal(`unary c=${top} calls/s ≥ 1.10× raw`, d.vsRawCalls, d.vsRawCalls >= 1.1);
      goal(`unary c=${top} CPU/call ≤ 0.90× raw`, d.vsRawCpu, d.vsRawCpu <= 0.9);
      goal(`unary c=${top} p99 ≤ raw (×)`, d.vsRawP99, d.vsRawP99 <= 1);
      if (d.vsRawC1) {
        goal("unary c=1 p50 ≤ raw (×)", d.vsRawC1.p50, d.vsRawC1.p50 <= 1);
        goal("unary c=1 p99 ≤ raw (×)", d.vsRawC1.p99, d.vsRawC1.p99 <= 1);
      }
    }
    if (dl) {
      goal(`deadline c=${top} calls/s ≥ 1.0× raw`, dl.vsRawCalls, dl.vsRawCalls >= 1);
      goal(`deadline c=${top} CPU/call ≤ 1.0× raw`, dl.vsRawCpu, dl.vsRawCpu <= 1);
    }
    if (mw) goal(`one middleware c=${top} calls/s ≥ 0.95× raw`, mw.vsRawCalls, mw.vsRawCalls >= 0.95);
    for (const kind of KINDS) {
      const row = streamRows.find((r) => r.kind === kind && r.library === "SDK" && r.strategy === name);
      const floor = kind === "bidi" ? 0.9 : 1.0;
      if (row) goal(`${kind} messages/s ≥ ${floor.toFixed(1)}× raw`, row.vsRaw, row.vsRaw >= floor);
    }
  }
  const adaptiveCpu = paired(adaptiveSubject, "unary", top, (c) => c.cpuUsPerCall, fixedSubject);
  goals.push({
    goal: `pool() unary c=${top} CPU/call ≤ 1.05× pool(2)`,
    measured: adaptiveCpu,
    met: adaptiveCpu <= 1.05,
  });
  const healthCpu = paired(fixedSubject, "unary", top, (c) => c.cpuUsPerCall, uncheckedSubject);
  goals.push({
    goal: `health checking (pool(2)) unary c=${top} CPU/call ≤ 1.01× without`,
    measured: healthCpu,
    met: healthCpu <= 1.01,
  });
  if (subjects.includes(adaptiveSubject)) {
    goals.push({
      goal: `pool() connections to one unlimited server, up to c=${top}: 1`,
      measured: adaptiveConnections,
      met: adaptiveConnections === 1,
    });
  }
  // A goal whose clients were left out (ONLY) has nothing measured.
  goals.splice(0, goals.length, ...goals.filter((g) => !Number.isNaN(g.measured)));
  log();
  log(
    table(
      ["goal", "measured", "met"],
      goals.map((g) => [g.goal, g.measured.toFixed(3), g.met ? "yes" : "no"]),
    ),
  );
  const machine = {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus().length,
    model: cpus()[0]?.model,
  };
  process.stdout.write(
    `${JSON.stringify({ bench: "balanced-grpc", server: server.kind, machine, options, unary: unaryRows, streaming: streamRows, rss, goals })}\n`,
  );
}

function subject(client: BenchClient, strategy: string, library: string, variant: Variant): Subject {
  return { client, strategy, library, variant: variant.label };
}

/** The Go server when Go is installed (and not told otherwise), else a Node server, each in its own process. */
async function startServer(nodeServer: boolean, log: (line: string) => void): Promise<BenchServer> {
  if (!nodeServer) {
    const { binary, reason } = await buildGoServer();
    if (binary) return startGoServer(binary, ["-features", String(STREAM_MESSAGES), "-health"]);
    log(`Go server unavailable (${reason}): falling back to a Node server, which may be the bottleneck`);
  }
  const backend = await spawnBackend({ routeFeatures: STREAM_MESSAGES, echoChat: true });
  return { address: backend.address, kind: "Node (grpc-js)", stop: () => backend.stop() };
}
