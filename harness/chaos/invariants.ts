/** What the soak checks all the time. */
export type InvariantName =
  | "no-uncaught"
  | "calls-settle"
  | "no-double-run"
  | "available"
  | "close-contract"
  | "close-resolves"
  | "process-exits"
  | "rss-flat"
  | "right-answers";

/** Each invariant in words, for the report. */
export const INVARIANTS: Readonly<Record<InvariantName, string>> = {
  "no-uncaught": "no uncaught exception or unhandled rejection in the client process",
  "calls-settle": "every call settles (by its deadline + slack, its client's close grace + slack, or the longest call)",
  "no-double-run": "a non-idempotent call runs at most once on the servers",
  available: "an idempotent call fails only while every backend is down",
  "close-contract": "a call made before close() never fails with ClientClosedError",
  "close-resolves": "every close() resolves",
  "process-exits": "the client process exits by itself after the last close()",
  "rss-flat": "RSS stays flat after warm-up",
  "right-answers": "each answer is the one its request asked for",
};

/** One broken invariant. */
export interface Violation {
  invariant: InvariantName;
  /** Epoch ms. */
  at: number;
  /** Ms since the soak began. */
  t: number;
  detail: string;
  /** A stack, the call's options, the backends' state: what a person needs to find the cause. */
  evidence?: string;
}

/** Violations of one kind: the same invariant, the same words up to ids and numbers, the same place in src/. */
export interface ViolationClass {
  key: string;
  count: number;
  first: Violation;
}

/**
 * The class of a violation: its invariant, its detail with call and client
 * ids, numbers and quoted values blanked, and the first and last frames in
 * the library's src/ (not a dependency's) of its evidence's stack (where the library was when it happened, and where
 * it was entered from: a timer, a grpc-js callback).
 */
export function violationClass(v: Violation): string {
  const detail = blankDetail(v.detail);
  const frames = (v.evidence ?? "")
    .split("\n")
    .filter((line) => !line.includes("node_modules"))
    .flatMap((line) => /\((?:[^()]*\/)?(src\/[^():]+:\d+):\d+\)/.exec(line)?.[1] ?? []);
  const where =
    frames.length === 0 ? "" : frames.length === 1 ? frames[0] : `${frames[0]} … ${frames[frames.length - 1]}`;
  return `${v.invariant}: ${detail}${where ? ` @ ${where}` : ""}`;
}

/** The first line of a detail with call and client ids, quoted values and numbers blanked. */
export function blankDetail(detail: string): string {
  return detail
    .split("\n")[0]!
    .replace(/\bc\d+\.w\d+\.\d+\.\w+/g, "<call>")
    .replace(/\bc\d+\b/g, "<client>")
    .replace(/"[^"]*"/g, "<text>")
    .replace(/\d+(\.\d+)?/g, "N");
}

/** Counts checks and violations per invariant, and keeps the violations, by class too. */
export class Ledger {
  private readonly checks = new Map<InvariantName, number>();
  readonly violations: Violation[] = [];
  private readonly classes = new Map<string, ViolationClass>();

  constructor(
    private readonly startedAt: number,
    /** Told of each violation; `first` when it opens a new class. */
    private readonly onViolation: (violation: Violation, first: boolean) => void = () => {},
  ) {}

  /** Every class of violation seen, most frequent first. */
  violationClasses(): ViolationClass[] {
    return [...this.classes.values()].sort((a, b) => b.count - a.count);
  }

  checked(invariant: InvariantName, count = 1): void {
    this.checks.set(invariant, (this.checks.get(invariant) ?? 0) + count);
  }

  violate(invariant: InvariantName, at: number, detail: string, evidence?: string): Violation {
    const violation: Violation = { invariant, at, t: Math.round(at - this.startedAt), detail };
    if (evidence !== undefined) violation.evidence = evidence;
    this.violations.push(violation);
    const key = violationClass(violation);
    const known = this.classes.get(key);
    if (known) known.count++;
    else this.classes.set(key, { key, count: 1, first: violation });
    this.onViolation(violation, !known);
    return violation;
  }

  /** Per invariant: checks made and violations. */
  counts(): { invariant: InvariantName; checks: number; violations: number }[] {
    return (Object.keys(INVARIANTS) as InvariantName[]).map((invariant) => ({
      invariant,
      checks: this.checks.get(invariant) ?? 0,
      violations: this.violations.filter((v) => v.invariant === invariant).length,
    }));
  }
}

/** Where and when one call id ran. */
export interface Run {
  backend: string;
  method: string;
  at: number;
}

/**
 * Counts how often each non-idempotent call ran on the servers (the backends
 * report every call id as its handler starts).
 */
export class RunCounter {
  private readonly runs = new Map<string, Run[]>();

  /** Records a run; the runs of that id so far if this one is a second (or later) run, else undefined. */
  ran(id: string, run: Run): readonly Run[] | undefined {
    const list = this.runs.get(id);
    if (!list) {
      this.runs.set(id, [run]);
      return undefined;
    }
    list.push(run);
    return list;
  }

  /** Distinct ids seen. */
  get ids(): number {
    return this.runs.size;
  }
}
