/** Why a backend cannot serve: its process is gone, stopped, or failing every call. */
export type DownReason = "killed" | "stopped" | "failing";

/** A time span, epoch ms; `end` is Infinity while it lasts. */
export interface Period {
  start: number;
  end: number;
}

/** How far around a backend's down time it still counts as down, ms. */
export interface Slack {
  /** Before it went down (clock skew between processes, a signal on its way). */
  before: number;
  /** After it came back (reconnect backoff, a client noticing it is back). */
  after: number;
}

/**
 * The backends' real up/down history as the fault driver made it: a backend
 * is down while any reason holds (marked before the fault is applied,
 * cleared once it is undone). The fleet is out when every backend is down
 * at once; with slack, when each is down or just came back.
 */
export class BackendTimeline {
  private readonly reasons: Set<DownReason>[];
  private readonly periods: Period[][];

  constructor(readonly backends: number) {
    this.reasons = Array.from({ length: backends }, () => new Set<DownReason>());
    this.periods = Array.from({ length: backends }, () => []);
  }

  /** Backend `i` is down for `reason` from `at`. */
  down(i: number, reason: DownReason, at: number): void {
    const set = this.reasons[i]!;
    if (set.size === 0) this.periods[i]!.push({ start: at, end: Number.POSITIVE_INFINITY });
    set.add(reason);
  }

  /** `reason` no longer holds for backend `i` from `at`. */
  up(i: number, reason: DownReason, at: number): void {
    const set = this.reasons[i]!;
    if (!set.delete(reason) || set.size > 0) return;
    const periods = this.periods[i]!;
    periods[periods.length - 1]!.end = at;
  }

  isDown(i: number): boolean {
    return this.reasons[i]!.size > 0;
  }

  /** Ms each backend was down, up to `at`. */
  downtime(at: number): number[] {
    return this.periods.map((list) => list.reduce((ms, p) => ms + Math.min(p.end, at) - p.start, 0));
  }

  /** The periods in which every backend was down at once (no slack), in order. */
  allDown(): Period[] {
    return this.intersect({ start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY }, { before: 0, after: 0 });
  }

  /**
   * A span within `from`..`to` in which every backend was down or within
   * `slack` of its down time, if there was one: a failure of a call that ran
   * then is blamed on the outage.
   */
  outageDuring(from: number, to: number, slack: Slack): Period | undefined {
    return this.intersect({ start: from, end: to }, slack)[0];
  }

  private intersect(window: Period, slack: Slack): Period[] {
    let common: Period[] = [window];
    for (const list of this.periods) {
      const widened = merge(list.map((p) => ({ start: p.start - slack.before, end: p.end + slack.after })));
      common = intersectLists(common, widened);
      if (common.length === 0) break;
    }
    return common;
  }
}

/** Sorted, overlapping periods joined. */
function merge(periods: Period[]): Period[] {
  const out: Period[] = [];
  for (const p of periods) {
    const last = out[out.length - 1];
    if (last && p.start <= last.end) last.end = Math.max(last.end, p.end);
    else out.push({ ...p });
  }
  return out;
}

/** The overlap of two sorted lists of disjoint periods. */
function intersectLists(a: Period[], b: Period[]): Period[] {
  const out: Period[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const start = Math.max(a[i]!.start, b[j]!.start);
    const end = Math.min(a[i]!.end, b[j]!.end);
    if (start <= end) out.push({ start, end });
    if (a[i]!.end < b[j]!.end) i++;
    else j++;
  }
  return out;
}
