import type { CallKind } from "./call-plan.js";
import type { InvariantName } from "./invariants.js";
import type { ExpectedReason } from "./judge-call.js";
import type { RssSample } from "./rss.js";
import type { WatchdogLimits } from "./watchdog.js";

/** What the orchestrator tells the client process (as JSON in argv). */
export interface DriverConfig {
  seed: number;
  seconds: number;
  /** Calls in flight, all clients together. */
  concurrency: number;
  /** Clients alive at a time. */
  clients: number;
  target: string;
  limits: WatchdogLimits;
  /** Client faults left out (names of CLIENT_FAULTS). */
  without: string[];
}

/** Outcomes of one group of calls. */
export interface CallCounts {
  calls: number;
  ok: number;
  /** Failed for a reason of the soak's own (abort, deadline, closing client, throwing callback). */
  expected: number;
  /** Non-idempotent calls that failed (allowed; only double runs are checked). */
  notIdempotent: number;
  /** Idempotent calls that failed with no reason of the soak's: checked against the backends' outages. */
  unexplained: number;
  /** Wrong answers and ClientClosedError on calls made before close(). */
  broken: number;
}

/** What the client process reports once its clients are closed. */
export interface DriverSummary {
  byKind: Record<CallKind, CallCounts>;
  byStrategy: Record<string, CallCounts>;
  expected: Record<ExpectedReason, number>;
  /** Client-side faults injected, by name. */
  faults: Record<string, number>;
  /** Checks made in the client process, per invariant. */
  checks: Partial<Record<InvariantName, number>>;
  rss: RssSample[];
  /** Event loop delay of the client process, ms. */
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number };
  /** Calls a worker stopped waiting for (each is also a calls-settle violation). */
  abandoned: number;
  /** Calls sent again because a server refused their stream unprocessed (closed clients only). */
  refusedStreamReplays: number;
  /** Process warnings (e.g. MaxListenersExceededWarning), first few. */
  warnings: string[];
}

/** One line from the client process to the orchestrator. */
export type DriverMessage =
  | { t: "ready"; at: number }
  | { t: "violation"; invariant: InvariantName; at: number; detail: string; evidence?: string }
  /** An idempotent call failed without a reason of the soak's: the orchestrator checks the backends' outages. */
  | {
      t: "failure";
      at: number;
      startedAt: number;
      detail: string;
      evidence: string;
      /** The client's strategy, e.g. "pickFirst()". */
      strategy: string;
      /** The backends (hosts) its attempts failed on, as their errors name them (a failing backend's answer). */
      failedOn: string[];
    }
  /** Every 5 s: how far it got, and its checks so far (in case it never gets to its summary). */
  | { t: "progress"; at: number; calls: number; inFlight: number; checks: Partial<Record<InvariantName, number>> }
  | { t: "summary"; at: number; summary: DriverSummary }
  /** Every client was closed (`unresolved`: close() calls given up on): the process should now exit by itself. */
  | { t: "closed"; at: number; unresolved: number }
  /** Still alive a while after "closed": what keeps it up. */
  | { t: "lingering"; at: number; resources: string[]; openCalls: string[]; sockets: string[] };

/** The prefix of the client process's message lines (anything else on its stdout is passed through). */
export const MESSAGE_PREFIX = "CHAOS ";

/** Writes one message (stdout to a pipe is synchronous on Linux: nothing is lost if the process dies right after). */
export function send(message: DriverMessage): void {
  process.stdout.write(`${MESSAGE_PREFIX}${JSON.stringify(message)}\n`);
}

/** Reads a message line; undefined for other output. */
export function parseMessage(line: string): DriverMessage | undefined {
  return line.startsWith(MESSAGE_PREFIX) ? (JSON.parse(line.slice(MESSAGE_PREFIX.length)) as DriverMessage) : undefined;
}
