import { type Metadata as GrpcMetadata, status as Status } from "@grpc/grpc-js";
import { ClientError } from "nice-grpc-common";
import { type Avoid, attachNote } from "../balancer/pick-note.js";
import { type Clock, callClock } from "../clock.js";
import { CallbackError, type CallCallbackName } from "../errors.js";
import { abortReason } from "./abort.js";
import type { CallChannel, CallListener, CallObserver, CallStream, EngineCallOptions } from "./call-types.js";
import { absoluteDeadline } from "./deadline.js";
import { checkMetadataSize, incomingMetadata, outgoingMetadata } from "./metadata.js";

/** What a call's attempt is cancelled with when the caller ends it. */
const CANCELLED_DETAILS = "Cancelled on client";

/** What the attempts of a hedged call that lost the race are cancelled with. */
const LOST_HEDGE_DETAILS = "balanced-grpc: another attempt of the hedged call answered first";

/** @internal The call a lifecycle belongs to: told once when the call is over. */
export interface CallOwner {
  /** The call ended: `error` undefined for success. */
  callEnded(error: unknown): void;
}

/**
 * @internal
 * One call's life, the same for every kind of call: written once here.
 *
 * - The deadline is absolute, computed once: every attempt gets the time left
 *   (grpc-js sends it as `grpc-timeout`), and a wait between attempts that
 *   would end past it ends the call at the deadline instead.
 * - `signal`: an abort cancels the attempt (or the wait) and ends the call
 *   with the signal's reason, as nice-grpc does. Without a signal, no listener.
 * - `onHeader` / `onTrailer` are called for every attempt that receives them,
 *   as with nice-grpc's retry middleware: the last call is the final attempt's.
 * - The call ends once: `end` is called with undefined (success) or the error,
 *   and nothing of the call runs after.
 */
export class CallLifecycle {
  readonly deadline: number;
  /** The attempt under way; with hedging, the others in flight too. */
  private attempt: CallStream | undefined;
  private others: CallStream[] | undefined;
  private timer: unknown;
  private abortListener: (() => void) | undefined;
  private over = false;

  constructor(
    private readonly path: string,
    private readonly options: EngineCallOptions,
    private readonly owner: CallOwner,
    /** Spans and metrics of the call, while an OpenTelemetry SDK is registered. */
    private readonly telemetry?: CallObserver,
    /** Wall-clock time and the timers of waits between attempts. */
    readonly clock: Clock = callClock,
  ) {
    this.deadline = absoluteDeadline(options.deadline, clock.now());
  }

  /** Starts watching the signal; false (the call then ended with the abort reason) if it was aborted already. */
  begin(): boolean {
    this.telemetry?.begin();
    const { signal } = this.options;
    if (!signal) return true;
    if (signal.aborted) {
      this.finish(abortReason(signal));
      return false;
    }
    this.abortListener = () => this.cancel(abortReason(signal));
    signal.addEventListener("abort", this.abortListener);
    return true;
  }

  /** Whether the call is over. */
  get ended(): boolean {
    return this.over;
  }

  /**
   * Starts an attempt on the channel with the call's deadline and metadata;
   * undefined if the channel refused (a closed client): the call then ended.
   * The attempt's pick passes over the backends in `avoid` while another is
   * ready (retries and hedges go elsewhere). With `alongside`, the attempts
   * already in flight go on (a hedge); else this one replaces them.
   */
  open(channel: CallChannel, listener: CallListener, avoid?: Avoid, alongside = false): CallStream | undefined {
    try {
      if (this.options.metadata) checkMetadataSize(this.options.metadata, channel.maxMetadataSize);
      let call = channel.newCall(this.path, this.deadline, null, null, 0);
      // Telemetry wraps the attempt: its span, its trace context in the metadata, its metrics.
      if (this.telemetry) call = this.telemetry.attempt(call, alongside);
      if (alongside && this.attempt) {
        this.others ??= [];
        this.others.push(this.attempt);
      } else {
        this.others = undefined;
      }
      this.attempt = call;
      const metadata = outgoingMetadata(this.options.metadata, this.options.waitForReady);
      if (avoid) attachNote(metadata, avoid);
      call.start(metadata, listener);
      return call;
    } catch (error) {
      // A hedge that cannot start (a closed client) leaves the attempts in flight to finish.
      if (alongside && this.attempt) return undefined;
      this.finish(error); // e.g. ClientClosedError
      return undefined;
    }
  }

  /** Cancels every attempt in flight but `winner` (the hedges that lost). */
  cancelOthers(winner: CallStream): void {
    for (const call of [this.attempt, ...(this.others ?? [])]) {
      if (call && call !== winner) call.cancelWithStatus(Status.CANCELLED, LOST_HEDGE_DETAILS);
    }
  }

  /** Tells the caller's `onHeader`; false if it threw (the call then ended with a {@link CallbackError}). */
  header(metadata: GrpcMetadata): boolean {
    const { onHeader } = this.options;
    return onHeader === undefined || this.callback("onHeader", () => onHeader(incomingMetadata(metadata)));
  }

  /** Tells the caller's `onTrailer`; false if it threw (the call then ended with a {@link CallbackError}). */
  trailer(metadata: GrpcMetadata): boolean {
    const { onTrailer } = this.options;
    return onTrailer === undefined || this.callback("onTrailer", () => onTrailer(incomingMetadata(metadata)));
  }

  /**
   * Runs one of the caller's callbacks: user code, called from grpc-js's own
   * events, must not throw into them. One that throws ends this call (its
   * attempts cancelled) with a {@link CallbackError}; false then.
   */
  callback(name: CallCallbackName, run: () => void): boolean {
    if (this.over) return false;
    try {
      run();
      return true;
    } catch (error) {
      this.cancel(new CallbackError(name, this.path, error));
      return false;
    }
  }

  /** Waits `delayMs` (or until the deadline, which then ends the call) and runs `next`. */
  after(delayMs: number, next: () => void): void {
    const left = this.deadline - this.clock.now();
    this.telemetry?.waited(Math.max(0, Math.min(delayMs, left)));
    if (delayMs >= left) {
      this.timer = this.clock.setTimeout(
        () => this.finish(new ClientError(this.path, Status.DEADLINE_EXCEEDED, "Deadline exceeded")),
        Math.max(0, left),
      );
      return;
    }
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.over) next();
    }, delayMs);
  }

  /**
   * The caller ends the call (abort, a request iterable that threw, leaving
   * a response stream early): the attempt is cancelled, the call ends with `error`.
   */
  cancel(error: unknown, code: Status = Status.CANCELLED, details = CANCELLED_DETAILS): void {
    if (this.over) return;
    this.attempt?.cancelWithStatus(code, details);
    if (this.others) for (const call of this.others) call.cancelWithStatus(code, details);
    // A stream the caller left early ends without an error for the caller, but CANCELLED on the wire.
    const outcome = error ?? (this.telemetry && new ClientError(this.path, code, details));
    this.finish(error, outcome);
  }

  /** Ends the call, once: `error` undefined for success; telemetry records `outcome` (the same, unless cancelled). */
  finish(error: unknown, outcome: unknown = error): void {
    if (this.over) return;
    this.over = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (this.abortListener) this.options.signal!.removeEventListener("abort", this.abortListener);
    this.telemetry?.end(outcome);
    this.owner.callEnded(error);
  }
}
