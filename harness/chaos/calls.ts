import { type ClientError, Metadata, Status } from "balanced-grpc";
import type { Feature, Point, RouteNote } from "../../generated/routeguide/route_guide.js";
import { ROUTE_GUIDE_FEATURES } from "../reference/route-guide-features.js";
import { type CallPlan, IDEMPOTENT } from "./call-plan.js";
import type { ClientSlot } from "./client-slot.js";
import { sleep } from "./clock.js";
import { oddMetadata, UNICODE } from "./odd-metadata.js";
import type { Prng } from "./prng.js";

/** The request header carrying a non-idempotent call's unique id, which the backends report. */
export const CALL_ID_HEADER = "x-chaos-id";

/** How one call ended. */
export interface CallOutcome {
  /** Why it failed; undefined if it succeeded. */
  error?: unknown;
  /** What was wrong with an answer, if anything. */
  wrong?: string;
  /** The soak aborted its signal before it ended. */
  aborted: boolean;
  /** A callback the soak made throw did throw. */
  threw: boolean;
  /** Each retry the engine announced (onRetryableError): the failed attempt and the wait, for the evidence. */
  retries: string[];
}

/** The error the soak's throwing callbacks throw. */
export class ChaosCallbackError extends Error {
  override readonly name = "ChaosCallbackError";
}

/** A rectangle around every reference feature. */
const EVERYWHERE = {
  lo: { latitude: 400_000_000, longitude: -750_000_000 },
  hi: { latitude: 420_000_000, longitude: -730_000_000 },
};

/**
 * Runs one call as `plan` says on `slot`'s clients and checks its answer.
 * `id` is the call's unique id: non-idempotent calls send it in
 * {@link CALL_ID_HEADER} so the backends can count how often each ran.
 */
export async function runCall(slot: ClientSlot, plan: CallPlan, id: string, prng: Prng): Promise<CallOutcome> {
  const outcome: CallOutcome = { aborted: false, threw: false, retries: [] };
  let abortTimer: NodeJS.Timeout | undefined;
  try {
    const metadata = Metadata();
    if (plan.metadata) oddMetadata(plan.metadata, prng, metadata);
    if (!IDEMPOTENT[plan.kind]) metadata.set(CALL_ID_HEADER, id);
    const options: Record<string, unknown> = { metadata };
    if (plan.deadlineMs !== undefined) options.deadline = plan.deadlineMs;
    if (plan.waitForReady) options.waitForReady = true;
    if (plan.kind === "sayHello") {
      options.onRetryableError = (error: ClientError, attempt: number, delayMs: number) => {
        outcome.retries.push(`attempt ${attempt}: ${Status[error.code]} "${error.details}", retry in ${delayMs} ms`);
      };
    }
    if (plan.thrower) {
      const name = plan.thrower;
      options[name] = () => {
        outcome.threw = true;
        throw new ChaosCallbackError(`the soak's ${name} throws on purpose (call ${id})`);
      };
    }
    if (plan.abortAfterMs !== undefined) {
      const controller = new AbortController();
      options.signal = controller.signal;
      abortTimer = setTimeout(() => {
        outcome.aborted = true;
        controller.abort();
      }, plan.abortAfterMs);
    }
    outcome.wrong = await KINDS[plan.kind](slot, plan, id, options);
  } catch (error) {
    outcome.error = error;
  } finally {
    clearTimeout(abortTimer);
  }
  return outcome;
}

type Run = (slot: ClientSlot, plan: CallPlan, id: string, options: object) => Promise<string | undefined>;

const KINDS: Readonly<Record<CallPlan["kind"], Run>> = {
  async sayHello(slot, plan, _id, options) {
    // A tenth of the names go beyond ASCII (a protobuf string may hold any text).
    const name = plan.pick % 10 === 0 ? `soak ${plan.pick} ${UNICODE}` : `soak ${plan.pick}`;
    const { message } = await slot.greeter.sayHello({ name }, options);
    return message === `Hello ${name}` || message === `Hello ${name} (stalled)`
      ? undefined
      : `SayHello("${name}") answered "${message}"`;
  },

  async getFeature(slot, plan, _id, options) {
    const feature = featureAt(plan.pick);
    const answer = await slot.routes.getFeature(feature.location!, options);
    return answer.name === feature.name ? undefined : `GetFeature answered "${answer.name}", not "${feature.name}"`;
  },

  async listFeatures(slot, plan, _id, options) {
    let count = 0;
    for await (const feature of slot.routes.listFeatures(EVERYWHERE, options)) {
      if (!ROUTE_GUIDE_FEATURES.some((f) => f.name === feature.name)) return `ListFeatures sent "${feature.name}"`;
      count++;
      if (plan.leaveEarly) return undefined;
    }
    return count === ROUTE_GUIDE_FEATURES.length
      ? undefined
      : `ListFeatures sent ${count} of ${ROUTE_GUIDE_FEATURES.length} features`;
  },

  async recordRoute(slot, plan, _id, options) {
    const points = Array.from({ length: plan.messages }, (_, i) => featureAt(plan.pick + i).location!);
    const summary = await slot.routes.recordRoute(paced(points, plan.gapMs), options);
    return summary.pointCount === points.length
      ? undefined
      : `RecordRoute counted ${summary.pointCount} of ${points.length} points`;
  },

  async routeChat(slot, plan, id, options) {
    const notes: RouteNote[] = Array.from({ length: plan.messages }, (_, i) => ({
      location: featureAt(plan.pick + i).location!,
      message: `${id}#${i}`,
    }));
    let replies = 0;
    for await (const note of slot.routes.routeChat(paced(notes, plan.gapMs), options)) {
      // The backends echo each note (echoChat): a reply that is not ours crossed over from another call.
      if (!notes.some((n) => n.message === note.message)) return `RouteChat answered "${note.message}"`;
      replies++;
      if (plan.leaveEarly) return undefined;
    }
    return replies === notes.length ? undefined : `RouteChat answered ${replies} of ${notes.length} notes`;
  },
};

function featureAt(pick: number): Feature {
  return ROUTE_GUIDE_FEATURES[pick % ROUTE_GUIDE_FEATURES.length]!;
}

/** The messages as a client stream, `gapMs` apart. */
async function* paced<T extends Point | RouteNote>(messages: readonly T[], gapMs: number): AsyncGenerator<T> {
  for (const message of messages) {
    if (gapMs > 0) await sleep(gapMs);
    yield message;
  }
}
