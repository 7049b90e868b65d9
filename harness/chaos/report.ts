import { cpus } from "node:os";
import { table } from "../table.js";
import type { ServerFaultKind } from "./fault-schedule.js";
import { SERVER_FAULTS } from "./fault-schedule.js";
import type { FaultTally } from "./fleet.js";
import { INVARIANTS, type InvariantName, type Violation, type ViolationClass } from "./invariants.js";
import type { CallCounts, DriverSummary } from "./messages.js";
import type { RssVerdict } from "./rss.js";

/** Everything the report shows. */
export interface ChaosResult {
  seed: number;
  seconds: number;
  clients: number;
  concurrency: number;
  backends: number;
  serverFaults: Partial<Record<ServerFaultKind, FaultTally>>;
  faultErrors: string[];
  /** Restart times of the backends, ms: median and max. */
  restarts: { count: number; medianMs: number; maxMs: number };
  without: string[];
  summary: DriverSummary | undefined;
  invariants: { invariant: InvariantName; checks: number; violations: number }[];
  violations: Violation[];
  classes: ViolationClass[];
  rss: RssVerdict | undefined;
  /** Ms in which every backend was down at once. */
  outageMs: number;
  /** Idempotent failures blamed on an outage (not violations), by kind of failure. */
  excusedByOutage: Record<string, number>;
  /** Non-idempotent call ids the backends saw. */
  idsSeen: number;
}

/** The tables for people. */
export function renderReport(r: ChaosResult): string {
  const s = r.summary;
  const out: string[] = [];
  out.push(
    `chaos: seed ${r.seed}, ${r.seconds} s, ${r.backends} backends, ${r.clients} clients, ${r.concurrency} calls in flight${r.without.length > 0 ? `, without ${r.without.join(", ")}` : ""}`,
  );
  out.push("");
  const faultRows = (Object.keys(SERVER_FAULTS) as ServerFaultKind[]).map((kind) => {
    const tally = r.serverFaults[kind];
    const notes = [
      r.without.includes(kind) ? "left out" : "",
      tally?.skipped ? `${tally.skipped} skipped (every other backend down)` : "",
      tally?.errors ? `${tally.errors} failed to apply` : "",
    ];
    return [`server: ${kind}`, String(tally?.done ?? 0), notes.filter(Boolean).join(", "), SERVER_FAULTS[kind]];
  });
  for (const [name, count] of Object.entries(s?.faults ?? {}).sort())
    faultRows.push([`client: ${name}`, String(count), "", ""]);
  out.push(table(["fault", "injected", "", "what"], faultRows));
  out.push("");
  out.push(
    table(
      ["invariant", "checks", "violations", "what"],
      r.invariants.map((i) => [i.invariant, String(i.checks), String(i.violations), INVARIANTS[i.invariant]]),
    ),
  );
  out.push("");
  if (s) {
    const row = (name: string, c: CallCounts) => [
      name,
      String(c.calls),
      String(c.ok),
      String(c.expected),
      String(c.notIdempotent),
      String(c.unexplained),
      String(c.broken),
    ];
    const head = [
      "calls",
      "made",
      "ok",
      "failed: soak's doing",
      "failed: not idempotent",
      "failed: unexplained",
      "broken",
    ];
    out.push(
      table(head, [
        ...Object.entries(s.byKind).map(([k, c]) => row(k, c)),
        ...Object.entries(s.byStrategy).map(([k, c]) => row(k, c)),
      ]),
    );
    out.push("");
    const reasons = Object.entries(s.expected)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ");
    out.push(`failures of the soak's doing: ${reasons || "none"}`);
    const excused = Object.entries(r.excusedByOutage);
    const total = excused.reduce((n, [, count]) => n + count, 0);
    out.push(
      `idempotent failures blamed on an outage (every backend down, or just back: see docs/chaos.md): ${total}; every backend down at once for ${(r.outageMs / 1000).toFixed(1)} s in all`,
    );
    for (const [what, count] of excused.slice(0, 6)) out.push(`  ${count}× ${what}`);
    out.push(
      `client event loop delay: p50 ${s.eventLoop.p50Ms} ms, p99 ${s.eventLoop.p99Ms} ms, max ${s.eventLoop.maxMs} ms`,
    );
    out.push(`refused streams sent again (clients whose close() resolved): ${s.refusedStreamReplays}`);
    if (s.abandoned > 0) out.push(`calls the workers stopped waiting for: ${s.abandoned}`);
    if (s.warnings.length > 0) out.push(`process warnings: ${s.warnings.join("; ")}`);
  }
  if (r.rss) {
    const v = r.rss;
    out.push(
      v.judged
        ? `RSS after warm-up: ${v.firstMb.toFixed(1)} → ${v.lastMb.toFixed(1)} MB (limit +${v.limitMb.toFixed(1)} MB; heap ${v.heapFirstMb.toFixed(1)} → ${v.heapLastMb.toFixed(1)} MB, ${v.samples} samples)`
        : `RSS: too few samples after warm-up to judge (${v.samples})`,
    );
  }
  out.push(`non-idempotent calls counted on the servers: ${r.idsSeen}`);
  out.push(
    `backend restarts: ${r.restarts.count}, until listening: median ${Math.round(r.restarts.medianMs)} ms, max ${Math.round(r.restarts.maxMs)} ms`,
  );
  for (const e of r.faultErrors.slice(0, 5)) out.push(`fault not applied: ${e}`);
  if (r.classes.length > 0) {
    out.push("");
    out.push(
      table(
        ["violations", "first at", "class (invariant: what @ where in src/)"],
        r.classes.map((c) => [String(c.count), `${(c.first.t / 1000).toFixed(1)} s`, c.key]),
      ),
    );
    out.push("");
    out.push("the first violation of each class:");
    for (const c of r.classes) out.push(formatViolation(c.first));
  }
  return out.join("\n");
}

/** One violation for people: when, which invariant, what, and its evidence indented. */
export function formatViolation(v: Violation): string {
  const head = `  t=${(v.t / 1000).toFixed(1)}s ${v.invariant}: ${v.detail}`;
  if (!v.evidence) return head;
  const evidence = v.evidence
    .split("\n")
    .slice(0, 40)
    .map((line) => `      ${line}`)
    .join("\n");
  return `${head}\n${evidence}`;
}

/** The one JSON line for machines. */
export function reportJson(r: ChaosResult): string {
  const { summary, violations, classes, ...rest } = r;
  return JSON.stringify({
    chaos: {
      ...rest,
      ok: violations.length === 0,
      calls: summary && { byKind: summary.byKind, byStrategy: summary.byStrategy, expected: summary.expected },
      clientFaults: summary?.faults,
      eventLoop: summary?.eventLoop,
      violations: violations.length,
      classes: classes.map((c) => ({ class: c.key, count: c.count, first: c.first })),
    },
    node: process.version,
    cpus: cpus().length,
  });
}
