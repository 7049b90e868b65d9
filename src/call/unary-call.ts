import { type Metadata as GrpcMetadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import { ClientError } from "nice-grpc-common";
import { type Avoid, avoiding, type Route } from "../balancer/pick-note.js";
import { CallLifecycle, type CallOwner } from "./call-lifecycle.js";
import type { CallPolicy } from "./call-policy.js";
import type { CallChannel, CallListener, CallStream, EngineCallOptions } from "./call-types.js";
import type { ResolvedHedging } from "./hedging-settings.js";
import { type MethodInfo, messageError } from "./method.js";
import { isRetryable, PUSHBACK_TRAILER, retryDelay } from "./retry.js";
import { decodeResponse } from "./single-response.js";

const NO_CONTEXT = {};

/** One attempt of a unary call: grpc-js's listener for it. */
class UnaryAttempt implements CallListener {
  response: Buffer | undefined;
  call: CallStream | undefined;
  done = false;

  constructor(private readonly owner: UnaryCall) {}

  onReceiveMetadata(metadata: GrpcMetadata): void {
    this.owner.header(metadata);
  }

  onReceiveMessage(message: Buffer): void {
    this.response = message;
  }

  onReceiveStatus(status: StatusObject): void {
    this.done = true;
    this.owner.ended(this, status);
  }
}

/**
 * @internal
 * A unary call: one request, one response; retried per the retry settings
 * and the client's retry budget, each retry to another backend than the
 * attempts before it while one is ready; hedged when the call hedges.
 */
class UnaryCall implements CallOwner {
  private readonly life: CallLifecycle;
  private request: Buffer | undefined;
  private value: unknown;
  private retries = 0;
  private started = 0;
  /** Attempts in flight. */
  private live = 0;
  /** With hedging: every attempt so far (the backends of those in flight are avoided too). */
  private attempts: UnaryAttempt[] | undefined;
  /** Where earlier attempts went; made on the first one that ended in vain. */
  private tried: Route[] | undefined;
  private hedging: ResolvedHedging | undefined;
  private hedgeTimer: unknown;
  private startedAt = 0;
  /** While the call waits to retry: takes it off the channel's list of calls `close()` ends. */
  private release: (() => void) | undefined;

  constructor(
    private readonly channel: CallChannel,
    private readonly method: MethodInfo,
    private readonly options: EngineCallOptions,
    private readonly policy: CallPolicy,
    private readonly resolve: (response: unknown) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.life = new CallLifecycle(method.path, options, this, channel.telemetry?.startCall(method), policy.clock);
  }

  callEnded(error: unknown): void {
    if (this.hedgeTimer !== undefined) this.policy.clock.clearTimeout(this.hedgeTimer);
    this.release?.();
    if (error === undefined) this.resolve(this.value);
    else this.reject(error);
  }

  start(request: unknown): void {
    try {
      this.request = this.method.serialize(request);
    } catch (error) {
      this.life.finish(messageError(this.method.path, "request", error));
      return;
    }
    if (!this.life.begin()) return;
    this.policy.retryBudget?.deposit();
    this.hedging = this.policy.hedgingFor(this.method, this.options);
    if (this.hedging) {
      this.policy.hedgeBudget.deposit();
      this.startedAt = this.policy.clock.now();
      this.attempts = [];
    }
    this.send(false);
  }

  private send(hedge: boolean): void {
    const attempt = new UnaryAttempt(this);
    const call = this.life.open(this.channel, attempt, this.avoid(), hedge);
    if (!call) return;
    attempt.call = call;
    this.attempts?.push(attempt);
    this.live++;
    this.started++;
    call.sendMessageWithContext(NO_CONTEXT, this.request!);
    call.halfClose();
    call.startRead();
    if (this.hedging && this.started <= this.hedging.maxHedges) this.armHedge(this.hedging);
  }

  /** Where the next attempt should not go: the connections (and backends) tried, and those still answering. */
  private avoid(): Avoid | undefined {
    if (this.live === 0) return this.tried && avoiding(this.tried);
    const routes = [...(this.tried ?? [])];
    for (const attempt of this.attempts ?? []) {
      const route = attempt.done ? undefined : attempt.call!.route();
      if (route) routes.push(route);
    }
    return avoiding(routes);
  }

  private armHedge(hedging: ResolvedHedging): void {
    const delay = hedging.delayMs === "auto" ? this.policy.hedgeDelay(this.method).ms : hedging.delayMs;
    const { clock } = this.policy;
    if (delay === undefined || delay >= this.life.deadline - clock.now()) return;
    if (this.hedgeTimer !== undefined) clock.clearTimeout(this.hedgeTimer);
    this.hedgeTimer = clock.setTimeout(() => {
      this.hedgeTimer = undefined;
      // A closed client starts nothing new; the attempts in flight finish.
      if (!this.life.ended && this.live > 0 && !this.channel.closed && this.policy.tryHedge()) this.send(true);
    }, delay);
  }

  header(metadata: GrpcMetadata): void {
    if (!this.life.ended) this.life.header(metadata);
  }

  ended(attempt: UnaryAttempt, status: StatusObject): void {
    if (this.life.ended) return;
    this.live--;
    if (!this.life.trailer(status.metadata)) return;
    if (status.code === Status.OK) {
      const outcome = decodeResponse(this.method, attempt.response);
      if (outcome.error === undefined) {
        this.value = outcome.value;
        if (this.hedging) this.policy.hedgeDelay(this.method).observe(this.policy.clock.now() - this.startedAt);
      }
      if (this.live > 0) this.life.cancelOthers(attempt.call!);
      this.life.finish(outcome.error);
      return;
    }
    const route = attempt.call!.route();
    if (route) {
      this.tried ??= [];
      this.tried.push(route);
    }
    const error = new ClientError(this.method.path, status.code, status.details);
    if (this.live > 0) {
      // A hedge is still out: it may yet answer, unless this answer is final.
      if (isRetryable(error, this.options, this.policy.retry)) return;
      this.life.cancelOthers(attempt.call!);
      this.life.finish(error);
      return;
    }
    this.failed(error, status.metadata.get(PUSHBACK_TRAILER)[0]?.toString());
  }

  private failed(error: ClientError, pushback: string | undefined): void {
    if (this.hedgeTimer !== undefined) this.policy.clock.clearTimeout(this.hedgeTimer);
    this.hedgeTimer = undefined;
    // A closed client's calls end now: a retry could only fail with ClientClosedError.
    let delay = this.channel.closed
      ? undefined
      : retryDelay(error, this.retries, this.method, this.options, this.policy.retry, pushback);
    // The budget refuses: the call fails with this attempt's error.
    if (delay !== undefined && this.policy.retryBudget && !this.policy.retryBudget.tryWithdraw()) delay = undefined;
    if (delay === undefined) {
      this.life.finish(error);
      return;
    }
    const { onRetryableError } = this.options;
    const retries = this.retries;
    if (onRetryableError && !this.life.callback("onRetryableError", () => onRetryableError(error, retries, delay))) {
      return;
    }
    this.retries++;
    // Between attempts no call of it is on the channel: the channel ends it
    // (with this error) if the client closes meanwhile, rather than leave its
    // timer to fail it later.
    this.release = this.channel.waiting(() => this.life.finish(error));
    this.life.after(delay, () => {
      this.release?.();
      this.release = undefined;
      this.send(false);
    });
  }
}

/** @internal Runs a unary call. */
export function unaryCall(
  channel: CallChannel,
  method: MethodInfo,
  request: unknown,
  options: EngineCallOptions,
  policy: CallPolicy,
): Promise<unknown> {
  return new Promise((resolve, reject) =>
    new UnaryCall(channel, method, options, policy, resolve, reject).start(request),
  );
}
