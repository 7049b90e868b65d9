import type { Prng } from "./prng.js";

/** Every call kind of the two reference services. */
export type CallKind = "sayHello" | "getFeature" | "listFeatures" | "recordRoute" | "routeChat";

/** SayHello is marked NO_SIDE_EFFECTS in its proto; no RouteGuide method is. */
export const IDEMPOTENT: Readonly<Record<CallKind, boolean>> = {
  sayHello: true,
  getFeature: false,
  listFeatures: false,
  recordRoute: false,
  routeChat: false,
};

/** A call option callback the soak makes throw. */
export type Thrower = "onHeader" | "onTrailer" | "onRetryableError";

/** Metadata no ordinary call sends. */
export type OddMetadata = "large" | "many" | "binary" | "unicode";

/** What one call does, drawn before it starts. */
export interface CallPlan {
  kind: CallKind;
  /** Deadline, ms from the start. */
  deadlineMs?: number;
  /** Abort the call's signal this long after the start, ms. */
  abortAfterMs?: number;
  waitForReady: boolean;
  thrower?: Thrower;
  metadata?: OddMetadata;
  /** Streams: stop reading after the first response (the call is cancelled). */
  leaveEarly: boolean;
  /** Client and bidi streams: messages sent. */
  messages: number;
  /** A client stream sends its messages this far apart, ms (0: as fast as it can). */
  gapMs: number;
  /** A draw for the request's content (the name, the point). */
  pick: number;
}

const KINDS: Readonly<Record<CallKind, number>> = {
  sayHello: 50,
  getFeature: 15,
  listFeatures: 12,
  recordRoute: 12,
  routeChat: 11,
};

/** Draws one call: its kind and which of the soak's odd options it carries. */
export function drawCall(prng: Prng): CallPlan {
  const kind = prng.weighted(KINDS);
  const plan: CallPlan = {
    kind,
    waitForReady: prng.chance(0.1),
    leaveEarly: (kind === "listFeatures" || kind === "routeChat") && prng.chance(0.2),
    messages: prng.int(1, 12),
    gapMs: prng.chance(0.3) ? prng.int(1, 20) : 0,
    pick: prng.int(0, 1_000_000),
  };
  if (prng.chance(0.3)) plan.deadlineMs = prng.chance(0.2) ? prng.int(5, 100) : prng.int(100, 3_000);
  if (prng.chance(0.06)) plan.abortAfterMs = prng.int(0, 100);
  if (prng.chance(0.04)) {
    plan.thrower =
      kind === "sayHello"
        ? prng.pick(["onHeader", "onTrailer", "onRetryableError"])
        : prng.pick(["onHeader", "onTrailer"]);
  }
  if (prng.chance(0.12)) plan.metadata = prng.weighted({ large: 3, many: 3, binary: 3, unicode: 2 });
  return plan;
}

/** The plan in a few words, for evidence. */
export function describePlan(plan: CallPlan): string {
  const parts: string[] = [plan.kind];
  if (plan.deadlineMs !== undefined) parts.push(`deadline ${plan.deadlineMs} ms`);
  if (plan.abortAfterMs !== undefined) parts.push(`abort after ${plan.abortAfterMs} ms`);
  if (plan.waitForReady) parts.push("waitForReady");
  if (plan.thrower) parts.push(`${plan.thrower} throws`);
  if (plan.metadata) parts.push(`${plan.metadata} metadata`);
  if (plan.leaveEarly) parts.push("leaves early");
  if (plan.kind === "recordRoute" || plan.kind === "routeChat") parts.push(`${plan.messages} messages`);
  return parts.join(", ");
}

/** Client-side faults a run can leave out (`--without`), besides the server fault kinds. */
export const CLIENT_FAULTS = [
  "throwers",
  "aborts",
  "deadlines",
  "metadata",
  "waitForReady",
  "hedging",
  "closes",
] as const;
export type ClientFault = (typeof CLIENT_FAULTS)[number];

/**
 * The plan without the options a run leaves out. Applied after the draw, so
 * the seed's other draws stay the same: a run `--without throwers` makes the
 * same calls as one with them, less the throwing callbacks.
 */
export function without(plan: CallPlan, left: ReadonlySet<string>): CallPlan {
  const out = { ...plan };
  if (left.has("throwers")) delete out.thrower;
  if (left.has("aborts")) delete out.abortAfterMs;
  if (left.has("deadlines")) delete out.deadlineMs;
  if (left.has("metadata")) delete out.metadata;
  if (left.has("waitForReady")) out.waitForReady = false;
  return out;
}
