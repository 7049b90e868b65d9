/** A client as the watchdog sees it: when its close() began, with which grace, and when it resolved. */
export interface WatchedClient {
  readonly id: string;
  closeAt?: number;
  graceMs?: number | undefined;
  closedAt?: number;
}

/** A call in flight. */
export interface WatchedCall {
  readonly id: string;
  readonly startedAt: number;
  /** Epoch ms of its deadline, if it has one. */
  readonly deadlineAt?: number;
  readonly client: WatchedClient;
  /** What it is (kind, options), for the evidence. */
  readonly what: string;
  /** What it is in a few words that classify it (kind, a throwing callback), for the violation's detail. */
  readonly tag: string;
}

/** How late is too late, ms. */
export interface WatchdogLimits {
  /** A call with a deadline must settle this long after it. */
  deadlineSlackMs: number;
  /** A call must settle this long after its client's close() grace ran out; close() must resolve by then too. */
  closeSlackMs: number;
  /** No call may stay open longer (the backends hold none anywhere near this long). */
  maxOpenMs: number;
}

/** Something that did not settle in time. */
export interface Overdue {
  kind: "call" | "close";
  id: string;
  reason: string;
  what: string;
}

/**
 * Watches every call in flight and every close() under way, and reports each
 * that is overdue, once. Pure: the caller passes the time.
 */
export class CallWatchdog {
  private readonly calls = new Map<string, WatchedCall>();
  private readonly closing = new Set<WatchedClient>();
  private readonly reported = new Set<string>();

  constructor(private readonly limits: WatchdogLimits) {}

  open(call: WatchedCall): void {
    this.calls.set(call.id, call);
  }

  settle(id: string): void {
    this.calls.delete(id);
  }

  /** The client's close() began (its `closeAt` and `graceMs` are set). */
  closeStarted(client: WatchedClient): void {
    this.closing.add(client);
  }

  /** The client's close() resolved. */
  closeResolved(client: WatchedClient): void {
    this.closing.delete(client);
  }

  get inFlight(): number {
    return this.calls.size;
  }

  /** Calls still open (for a last report). */
  openCalls(): IterableIterator<WatchedCall> {
    return this.calls.values();
  }

  /** Everything overdue at `now` and not reported before. */
  sweep(now: number): Overdue[] {
    const overdue: Overdue[] = [];
    const { deadlineSlackMs, closeSlackMs, maxOpenMs } = this.limits;
    for (const call of this.calls.values()) {
      if (this.reported.has(call.id)) continue;
      let reason: string | undefined;
      const age = Math.round(now - call.startedAt);
      if (call.deadlineAt !== undefined && now > call.deadlineAt + deadlineSlackMs) {
        reason = `not settled ${Math.round(now - call.deadlineAt)} ms after its deadline (slack ${deadlineSlackMs} ms)`;
      } else if (call.client.closeAt !== undefined && now > closeBound(call.client, maxOpenMs) + closeSlackMs) {
        reason = `not settled ${Math.round(now - call.client.closeAt)} ms after its client's close(${graceText(call.client)})`;
      } else if (age > maxOpenMs) {
        reason = `open for ${age} ms (limit ${maxOpenMs} ms)`;
      }
      if (reason) {
        this.reported.add(call.id);
        overdue.push({ kind: "call", id: call.id, reason: `(${call.tag}) ${reason}`, what: call.what });
      }
    }
    for (const client of this.closing) {
      const key = `close:${client.id}`;
      if (this.reported.has(key) || client.closeAt === undefined) continue;
      if (now > closeBound(client, maxOpenMs) + closeSlackMs) {
        this.reported.add(key);
        const open = [...this.calls.values()].filter((c) => c.client === client);
        const tags = [...new Set(open.map((c) => c.tag))].sort().join("; ");
        overdue.push({
          kind: "close",
          id: client.id,
          reason: `close(${graceText(client)}) not resolved after ${Math.round(now - client.closeAt)} ms; ${open.length} of its calls still open${tags ? ` (${tags})` : ""}`,
          what: open.map((c) => `${c.id}: ${c.what}`).join("\n"),
        });
      }
    }
    return overdue;
  }
}

/** When a closing client's calls must be done: its grace, or without one the longest a call may run. */
function closeBound(client: WatchedClient, maxOpenMs: number): number {
  return client.closeAt! + (client.graceMs ?? maxOpenMs);
}

function graceText(client: WatchedClient): string {
  return client.graceMs === undefined ? "" : `{ graceMs: ${client.graceMs} }`;
}
