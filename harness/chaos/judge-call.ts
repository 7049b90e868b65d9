import { ClientClosedError, Status } from "balanced-grpc";
import { type CallPlan, IDEMPOTENT } from "./call-plan.js";
import type { CallOutcome } from "./calls.js";

/** Why a failure was the soak's own doing. */
export type ExpectedReason = "aborted" | "deadline" | "client closing" | "callback threw";

/** What one ended call means for the invariants. */
export type Verdict =
  | { kind: "ok" }
  | { kind: "expected"; reason: ExpectedReason }
  /** A non-idempotent call failed: allowed (it may not be retried); only double runs are checked. */
  | { kind: "not idempotent" }
  /** An idempotent call failed for no reason of the soak's: fine only during a total outage. */
  | { kind: "unexplained" }
  /** A call made before close() failed with ClientClosedError. */
  | { kind: "close contract" }
  | { kind: "wrong answer"; detail: string };

/** The moments a verdict depends on, epoch ms. */
export interface CallMoments {
  startedAt: number;
  endedAt: number;
  /** When its client's close() began, if it did. */
  closeAt: number | undefined;
}

/** Judges one ended call. The first matching rule wins, in the order written. */
export function judgeCall(plan: CallPlan, outcome: CallOutcome, moments: CallMoments): Verdict {
  const { error } = outcome;
  if (error === undefined) return outcome.wrong ? { kind: "wrong answer", detail: outcome.wrong } : { kind: "ok" };
  const { startedAt, endedAt, closeAt } = moments;
  if (error instanceof ClientClosedError && !(closeAt !== undefined && startedAt >= closeAt)) {
    return { kind: "close contract" };
  }
  if (outcome.aborted) return { kind: "expected", reason: "aborted" };
  if (
    plan.deadlineMs !== undefined &&
    (codeOf(error) === Status.DEADLINE_EXCEEDED || endedAt >= startedAt + plan.deadlineMs)
  ) {
    return { kind: "expected", reason: "deadline" };
  }
  if (closeAt !== undefined && closeAt <= endedAt) return { kind: "expected", reason: "client closing" };
  if (outcome.threw) return { kind: "expected", reason: "callback threw" };
  if (!IDEMPOTENT[plan.kind]) return { kind: "not idempotent" };
  return { kind: "unexplained" };
}

/** A gRPC status code of an error, if it has one. */
export function codeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** An error in one line (name, code, message) and its first stack frames. */
export function describeError(error: unknown, frames = 10): { line: string; stack: string } {
  if (!(error instanceof Error)) return { line: String(error), stack: "" };
  const code = codeOf(error);
  const line = `${error.name}${code === undefined ? "" : ` (${Status[code] ?? code})`}: ${error.message}`;
  const stack = (error.stack ?? "")
    .split("\n")
    .slice(1, 1 + frames)
    .join("\n");
  const cause = error.cause === undefined ? "" : `\ncause: ${describeError(error.cause, 3).line}`;
  return { line, stack: stack + cause };
}
