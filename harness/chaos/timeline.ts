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
  /** After it came back, given why and how long it was down (reconnect backoff, a client noticing it is back). */
  after(reason: DownReason, downMs: number): number;
}

/** A down period of one backend for one reason. */
interface DownPeriod extends Period {
  reason: DownReason;
}

/**
 * The backends' real up/down history as the fault driver made it: a backend
 * is down while any reason holds (marked before the fault is applied,
 * cleared once it is undone). The fleet is out when every backend is down
 * at once; with slack, when each is down or just came back.
 */
export class BackendTimeline {
  /** Per backend, the reason's period under way, if any. */
  private readonly open: Map<DownReason, DownPeriod>[];
  private readonly periods: DownPeriod[][];

  constructor(readonly backends: number) {
    this.open = Array.from({ length: backends }, () => new Map());
    this.periods = Array.from({ length: backends }, () => []);
  }

  /** Backend `i` is down for `reason` from `at`. */
  down(i: number, reason: DownReason, at: number): void {
    if (this.open[i]!.has(reason)) return;
    const period = { start: at, end: Number.POSITIVE_INFINITY, reason };
    this.open[i]!.set(reason, period);
    this.periods[i]!.push(period);
  }

  /** `reason` no longer holds for backend `i` from `at`. */
  up(i: number, reason: DownReason, at: number): void {
    const period = this.open[i]!.get(reason);
    if (!period) return;
    period.end = at;
    this.open[i]!.delete(reason);
  }

  isDown(i: number): boolean {
    return this.open[i]!.size > 0;
  }

  /** Ms each backend was down (for any reason), up to `at`. */
  downtime(at: number): number[] {
    return this.periods.map((list) =>
      merge(list.map((p) => ({ start: p.start, end: Math.min(p.end, at) }))).reduce(
        (ms, p) => ms + Math.max(0, p.end - p.start),
        0,
      ),
    );
  }

  /** The periods in which every backend was down at once (no slack), in order. */
  allDown(): Period[] {
    const none = { before: 0, after: () => 0 };
    return this.intersect({ start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY }, none);
  }

  /** Whether backend `i` was down (or within `slack` of it) at some time within `from`..`to`. */
  downDuring(i: number, from: number, to: number, slack: Slack): boolean {
    return this.periods[i]!.some(
      (p) => p.start - slack.before <= to && p.end + slack.after(p.reason, p.end - p.start) >= from,
    );
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
      const widened = merge(
        list
          .map((p) => ({ start: p.start - slack.before, end: p.end + slack.after(p.reason, p.end - p.start) }))
          .sort((a, b) => a.start - b.start),
      );
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
