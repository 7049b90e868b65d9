import { status as Status } from "@grpc/grpc-js";
import { doubling } from "../doubling.js";
import { isRefusedStream } from "../grpc-js-errors.js";

/** @internal Failure accrual settings, resolved (see the client option `failureAccrual`). */
export interface ResolvedFailureAccrual {
  /** Failures in a row that take a backend out. */
  consecutiveFailures: number;
  /** How long the first time, ms; it doubles each time in a row, up to {@link maxEjectionMs}. */
  baseEjectionMs: number;
  maxEjectionMs: number;
}

/**
 * Statuses a backend causes, not the caller: they count against it. Not
 * CANCELLED (the caller's), not DEADLINE_EXCEEDED (the caller's budget; a slow
 * backend is weighed by its round-trip time instead), not the application's
 * own answers (NOT_FOUND, INVALID_ARGUMENT, PERMISSION_DENIED, …).
 */
const SERVER_FAILURES = new Set<number>([
  Status.UNKNOWN,
  Status.RESOURCE_EXHAUSTED,
  Status.UNIMPLEMENTED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
  Status.DATA_LOSS,
]);

/** How much of the failure score each outcome replaces: the score follows about the last 5 calls. */
const SCORE_WEIGHT = 0.2;

/**
 * @internal Whether a call's status counts as the backend's failure. A stream
 * refused unprocessed (a connection closing) is no fault of the backend.
 */
export function isBackendFailure(code: number, details: string | undefined): boolean {
  return SERVER_FAILURES.has(code) && !isRefusedStream(code, details);
}

/**
 * @internal
 * How one backend (a resolved address) has been answering, shared by every
 * connection to it: the failure half of "failure-aware picks".
 *
 * - A **failure score** (0–1, recent calls' failures, as an EWMA) that p2c
 *   multiplies into the backend's cost: a backend failing half its calls
 *   costs several times more, however fast it fails (Finagle and Linkerd
 *   weigh failures into the load the same way).
 * - **Failure accrual** (Finagle's, on by default there too): after
 *   `consecutiveFailures` failures in a row the backend takes no calls for
 *   `baseEjectionMs` (doubling each time in a row, up to `maxEjectionMs`);
 *   then one probe call goes to it: a success brings it back, a failure takes
 *   it out again for longer. Picks fall back to an ejected backend only when
 *   every backend is out (a balancer that fails closed would turn a cluster-
 *   wide blip into an outage).
 */
export class BackendHealth {
  private score = 0;
  private inARow = 0;
  private ejections = 0;
  /** Out until this instant (clock ms); 0 while in. */
  private until = 0;
  /** When the probe in flight was sent, or undefined. */
  private probeAt: number | undefined;

  constructor(
    private readonly settings: ResolvedFailureAccrual | false,
    private readonly random: () => number = Math.random,
    /** Told of each ejection (the pool's telemetry counts them). */
    private readonly onEject?: () => void,
    /** The clock ejections are timed by. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * The factor p2c multiplies this backend's cost by: 1 when healthy, up to
   * 21 when every recent call failed; always 1 with failure accrual off.
   */
  get penalty(): number {
    return 1 + 20 * this.score;
  }

  /** Whether a call may go to it at `now` (read only when it matters): in, or out with its time up and no probe in flight. */
  available(at?: number): boolean {
    if (this.until === 0) return true;
    const now = at ?? this.now();
    if (now < this.until) return false;
    // A probe whose call never ended (never started, or a long stream) does not block the next for ever.
    return this.probeAt === undefined || now - this.probeAt > this.maxEjectionMs;
  }

  /** A call was picked for it (at `now`, read only when it matters): past an ejection, that call is the probe. */
  picked(at?: number): void {
    if (this.until === 0) return;
    const now = at ?? this.now();
    if (now >= this.until) this.probeAt = now;
  }

  /** A call on it ended with `code` (at `now`, read only when it matters). */
  ended(code: number, details: string | undefined, now?: number): void {
    if (code === Status.OK) {
      this.score *= 1 - SCORE_WEIGHT;
      this.inARow = 0;
      this.ejections = 0;
      this.until = 0;
      this.probeAt = undefined;
      return;
    }
    if (!isBackendFailure(code, details)) {
      if (this.probeAt !== undefined) this.probeAt = undefined; // a probe that told nothing: send another
      return;
    }
    if (this.settings === false) return; // failures change no pick
    this.score = this.score * (1 - SCORE_WEIGHT) + SCORE_WEIGHT;
    this.inARow++;
    const probeFailed = this.probeAt !== undefined;
    if (probeFailed || (this.until === 0 && this.inARow >= this.settings.consecutiveFailures)) {
      this.eject(now ?? this.now());
    }
  }

  private get maxEjectionMs(): number {
    return this.settings === false ? 0 : this.settings.maxEjectionMs;
  }

  private eject(now: number): void {
    const { baseEjectionMs, maxEjectionMs } = this.settings as ResolvedFailureAccrual;
    const time = doubling(baseEjectionMs, maxEjectionMs, this.ejections);
    this.ejections++;
    // ±10% so backends that failed together do not come back together.
    this.until = now + time * (0.9 + 0.2 * this.random());
    this.probeAt = undefined;
    this.onEject?.();
  }
}
