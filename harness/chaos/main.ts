// `npm run chaos`: the soak's orchestrator. Starts the backend processes and
// the client process, injects the seed's server faults on schedule, checks
// what only it can see (double runs, outages, the client process's exit),
// and prints the report. Exit status 1 on any violation.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { median } from "../load.js";
import { now, sleep } from "./clock.js";
import { planFaults } from "./fault-schedule.js";
import { Fleet } from "./fleet.js";
import { blankDetail, type InvariantName, Ledger, RunCounter } from "./invariants.js";
import { EXIT_LIMIT_MS, OUTAGE_SLACK, WATCHDOG_LIMITS, warmupMs } from "./limits.js";
import { type DriverConfig, type DriverMessage, type DriverSummary, parseMessage } from "./messages.js";
import { parseOptions } from "./options.js";
import { createPrng } from "./prng.js";
import { formatViolation, renderReport, reportJson } from "./report.js";
import { judgeRss, type RssVerdict } from "./rss.js";

const options = parseOptions(process.argv.slice(2));
const { seed, seconds } = options;
const replay = `npm run chaos -- --seed ${seed} --seconds ${seconds}${options.without.length > 0 ? ` --without ${options.without.join(",")}` : ""}`;
const startedAt = now();
const log = (line: string) => process.stderr.write(`[chaos ${((now() - startedAt) / 1000).toFixed(1)}s] ${line}\n`);
log(
  `seed ${seed}: ${seconds} s, ${options.backends} backends, ${options.clients} clients, ${options.concurrency} calls in flight`,
);

// The first violation of each class in full as it happens; the report counts the rest.
const ledger = new Ledger(startedAt, (v, first) => {
  if (first) log(`VIOLATION (new class) ${formatViolation(v).trimStart()}`);
});
const runs = new RunCounter();
/** Recent faults, for the evidence of a violation. */
const faultLog: { at: number; text: string }[] = [];

const fleet = await Fleet.start(options.backends, (id, method, backend) => {
  const at = now();
  const all = runs.ran(id, { backend, method, at });
  if (all?.length === 2) {
    const where = all.map((r) => `${r.backend} at t=${((r.at - startedAt) / 1000).toFixed(3)}s`).join(", ");
    violate("no-double-run", at, `${method} call ${id} ran twice: ${where}`);
  }
});
log(`backends up: ${fleet.target}`);

const config: DriverConfig = {
  seed,
  seconds,
  concurrency: options.concurrency,
  clients: options.clients,
  target: fleet.target,
  limits: WATCHDOG_LIMITS,
  without: options.without,
};
const DRIVER = join(import.meta.dirname, "driver-main.ts");
const child: ChildProcess = spawn(
  process.execPath,
  ["--import", "tsx", "--expose-gc", DRIVER, JSON.stringify(config)],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
let childGone = false;
void exited.then(() => (childGone = true));

let summary: DriverSummary | undefined;
let checksSoFar: Partial<Record<InvariantName, number>> = {};
/** Idempotent failures blamed on an outage, by kind of failure. */
const excusedByOutage = new Map<string, number>();
let lingering: Extract<DriverMessage, { t: "lingering" }> | undefined;
let resolveReady!: (at: number) => void;
const ready = new Promise<number>((resolve) => (resolveReady = resolve));
let resolveClosed!: (at: number) => void;
const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
let unresolvedCloses = 0;

createInterface({ input: child.stdout! }).on("line", (line) => {
  const message = parseMessage(line);
  if (!message) {
    process.stderr.write(`[client] ${line}\n`);
    return;
  }
  switch (message.t) {
    case "ready":
      resolveReady(message.at);
      break;
    case "violation":
      violate(message.invariant, message.at, message.detail, message.evidence);
      break;
    case "failure": {
      const outage = fleet.timeline.outageDuring(message.startedAt, message.at, OUTAGE_SLACK);
      // pickFirst() has one connection: its retries cannot go elsewhere, and it leaves a failing
      // backend only after failure accrual takes it out. Its calls may fail while every backend
      // its attempts reached was down (docs/chaos.md).
      const names = fleet.names;
      const pickFirstsOwn =
        message.strategy === "pickFirst()" &&
        message.failedOn.length > 0 &&
        message.failedOn.every((host) =>
          fleet.timeline.downDuring(names.indexOf(host), message.startedAt, message.at, OUTAGE_SLACK),
        );
      if (outage || pickFirstsOwn) {
        const key = `${pickFirstsOwn && !outage ? "pickFirst(), its backends failing: " : ""}${blankDetail(message.detail)}`;
        excusedByOutage.set(key, (excusedByOutage.get(key) ?? 0) + 1);
      } else violate("available", message.at, `${message.detail} while a backend was up`, message.evidence);
      break;
    }
    case "progress":
      checksSoFar = message.checks;
      log(`${message.calls} calls, ${message.inFlight} in flight, ${ledger.violations.length} violations`);
      break;
    case "summary":
      summary = message.summary;
      break;
    case "closed":
      unresolvedCloses = message.unresolved;
      resolveClosed(message.at);
      break;
    case "lingering":
      lingering = message;
      break;
  }
});

// The faults, on the seed's schedule from the moment the clients are ready.
const readyAt = await Promise.race([ready, exited.then(() => undefined)]);
const faultsDone = readyAt === undefined ? Promise.resolve() : driveFaults(readyAt);

// The client process closes its clients after `seconds`, then must exit by itself.
const hardLimit = seconds * 1_000 + WATCHDOG_LIMITS.maxOpenMs + WATCHDOG_LIMITS.closeSlackMs + 30_000;
const closedAt = await Promise.race([closed, exited.then(() => undefined), sleep(hardLimit).then(() => undefined)]);
if (closedAt === undefined) {
  if (childGone) {
    const [code, signal] = await exited;
    violate(
      "process-exits",
      now(),
      `the client process ended before closing its clients (exit code ${code}, signal ${signal})`,
    );
  } else {
    violate("process-exits", now(), `the client process did not finish closing its clients within ${hardLimit} ms`);
    child.kill("SIGKILL");
  }
} else {
  const gone = await Promise.race([exited.then(() => true), sleep(EXIT_LIMIT_MS).then(() => false)]);
  if (!gone) {
    await sleep(100); // the "lingering" line (sent 3 s after closing) is in by now
    const evidence = lingering
      ? [
          `active resources: ${lingering.resources.join(", ") || "none"}`,
          `open calls: ${lingering.openCalls.length}`,
          ...lingering.openCalls.slice(0, 5),
          `open sockets: ${lingering.sockets.length}`,
          // The first with its stack, the rest in a line each (the clients open then narrow down whose it is).
          ...lingering.sockets.map((text, i) => (i === 0 ? text : text.slice(0, text.indexOf("; by:")))),
        ].join("\n")
      : undefined;
    const after =
      unresolvedCloses === 0
        ? "its last close() resolved"
        : `it closed its clients (${unresolvedCloses} close() calls never resolved)`;
    violate("process-exits", now(), `still running ${EXIT_LIMIT_MS} ms after ${after}`, evidence);
    child.kill("SIGKILL");
  } else {
    const [code, signal] = await exited;
    if (code !== 0) violate("process-exits", now(), `the client process exited with code ${code}, signal ${signal}`);
  }
}
await exited;
ledger.checked("process-exits");
await faultsDone;
await fleet.stop();

// What only the end can judge.
let rss: RssVerdict | undefined;
for (const [invariant, count] of Object.entries(summary?.checks ?? checksSoFar)) {
  ledger.checked(invariant as InvariantName, count);
}
if (summary) {
  rss = judgeRss(summary.rss, warmupMs(seconds));
  if (rss.judged) {
    ledger.checked("rss-flat");
    if (!rss.ok) {
      violate(
        "rss-flat",
        now(),
        `RSS grew ${(rss.lastMb - rss.firstMb).toFixed(1)} MB (${rss.firstMb.toFixed(1)} → ${rss.lastMb.toFixed(1)} MB; limit ${rss.limitMb.toFixed(1)} MB)`,
        `heap after GC ${rss.heapFirstMb.toFixed(1)} → ${rss.heapLastMb.toFixed(1)} MB`,
      );
    }
  }
}
ledger.checked("no-double-run", runs.ids);

const result = {
  ...options,
  serverFaults: fleet.tally,
  faultErrors: fleet.errors,
  restarts: {
    count: fleet.restartMs.length,
    medianMs: median(fleet.restartMs),
    maxMs: Math.max(0, ...fleet.restartMs),
  },
  summary,
  invariants: ledger.counts(),
  violations: ledger.violations,
  classes: ledger.violationClasses(),
  rss,
  outageMs: fleet.timeline.allDown().reduce((ms, p) => ms + (Math.min(p.end, now()) - p.start), 0),
  excusedByOutage: Object.fromEntries([...excusedByOutage].sort((a, b) => b[1] - a[1])),
  idsSeen: runs.ids,
};
process.stdout.write(`\n${renderReport(result)}\n\n${reportJson(result)}\n\nseed ${seed}\n`);
if (ledger.violations.length > 0) {
  process.stdout.write(`${ledger.violations.length} violations; replay with: ${replay}\n`);
  process.exitCode = 1;
}

function violate(invariant: InvariantName, at: number, detail: string, evidence?: string): void {
  const recent = faultLog.filter((f) => f.at > at - 5_000 && f.at <= at).map((f) => f.text);
  const down = fleet.names.filter((_, i) => fleet.timeline.isDown(i));
  const context = `backends down now: ${down.join(", ") || "none"}; faults in the 5 s before: ${recent.join("; ") || "none"}`;
  ledger.violate(invariant, at, detail, evidence === undefined ? context : `${evidence}\n${context}`);
}

async function driveFaults(from: number): Promise<void> {
  const plan = planFaults(createPrng(seed, "faults"), {
    durationMs: seconds * 1_000,
    backends: options.backends,
  }).filter((f) => !options.without.includes(f.kind));
  const applied: Promise<void>[] = [];
  for (const fault of plan) {
    const wait = from + fault.at - now();
    if (wait > 0) await sleep(wait);
    if (childGone) break;
    const on = fault.backend === "all" ? "all" : fleet.names[fault.backend];
    const t = ((now() - startedAt) / 1000).toFixed(1);
    faultLog.push({ at: now(), text: `${fault.kind} ${on} ${fault.durationMs} ms at t=${t}s` });
    applied.push(fleet.apply(fault));
  }
  await Promise.all(applied);
}
