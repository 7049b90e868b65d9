import { type experimental, type Metadata as GrpcMetadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import { type CallOptions, ClientError } from "nice-grpc-common";
import { mayReplay, replaySoon, statusAfterClose } from "../channel/refused-stream.js";
import type { ResolvedRetrySettings } from "../client-options.js";
import { abortReason } from "./abort.js";
import type { SdkCallOptions } from "./call-options.js";
import { incomingMetadata, outgoingMetadata } from "./metadata.js";
import { type MethodInfo, messageError } from "./method.js";
import { RequestPump } from "./request-pump.js";
import { retryDelay } from "./retry.js";

type CallStream = experimental.CallStream;

/** @internal What a call is made on: a ChannelPool, or a fake in unit tests. */
export interface CallChannel {
  readonly closed: boolean;
  /** A call that sends refused streams again by itself (client and bidi streams use it). */
  createCall(method: string, deadline: Date | number, host: null, parent: null, flags: number): CallStream;
  /** One bare attempt on grpc-js: the caller replays refused streams (calls with one request do). */
  attempt(method: string, deadline: Date | number, host: null, parent: null, flags: number): CallStream;
  /** Counts a refused stream sent again. */
  replayed(): void;
}

/** @internal Options of one call, defaults applied. */
export type EngineCallOptions = CallOptions & SdkCallOptions;

const NO_CONTEXT = {};

/** @internal The absolute deadline (epoch ms) of a call's `deadline` option, or Infinity. */
export function absoluteDeadline(deadline: Date | number | undefined): number {
  if (deadline === undefined) return Infinity;
  return deadline instanceof Date ? deadline.getTime() : Date.now() + deadline;
}

/**
 * @internal
 * A call that answers with one message: unary (with retries) and client
 * streaming. It is grpc-js's listener itself, so an attempt allocates nothing
 * of its own but the metadata.
 *
 * - The deadline is absolute, computed once: every attempt gets the time left
 *   (grpc-js sends it as `grpc-timeout`), and a retry backoff that would end
 *   past it ends the call at the deadline instead.
 * - `signal`: an abort cancels the attempt or the backoff and rejects with
 *   the signal's reason, as nice-grpc does. Without a signal, no listener.
 * - `onHeader` / `onTrailer` are called for every attempt that receives them,
 *   as with nice-grpc's retry middleware: the last call is the final attempt's.
 */
abstract class SingleResponseCall {
  protected call: CallStream | undefined;
  protected readonly deadline: number;
  private response: Buffer | undefined;
  private responded = false;
  private replays = 0;
  private settled = false;
  private backoff: NodeJS.Timeout | undefined;
  private abortListener: (() => void) | undefined;

  constructor(
    protected readonly channel: CallChannel,
    protected readonly method: MethodInfo,
    protected readonly options: EngineCallOptions,
    private readonly resolve: (response: unknown) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.deadline = absoluteDeadline(options.deadline);
  }

  /** Starts the call unless its signal is already aborted; false if it was. */
  protected begin(): boolean {
    const { signal } = this.options;
    if (signal) {
      if (signal.aborted) {
        this.settle(undefined, abortReason(signal));
        return false;
      }
      this.abortListener = () => this.abort(signal);
      signal.addEventListener("abort", this.abortListener);
    }
    return true;
  }

  /**
   * Opens one attempt; returns it, or undefined if the channel refused (the
   * call is then settled). A `bare` attempt is grpc-js's own call: this class
   * then replays a refused stream itself, by calling {@link resend}.
   */
  protected open(bare: boolean): CallStream | undefined {
    this.bare = bare;
    this.response = undefined;
    this.responded = false;
    try {
      const call = bare
        ? this.channel.attempt(this.method.path, this.deadline, null, null, 0)
        : this.channel.createCall(this.method.path, this.deadline, null, null, 0);
      this.call = call;
      call.start(outgoingMetadata(this.options.metadata, this.options.waitForReady), this);
      return call;
    } catch (error) {
      this.settle(undefined, error); // e.g. ClientClosedError: the client was closed
      return undefined;
    }
  }

  onReceiveMetadata(metadata: GrpcMetadata): void {
    this.responded = true;
    this.options.onHeader?.(incomingMetadata(metadata));
  }

  onReceiveMessage(message: Buffer): void {
    this.responded = true;
    this.response = message;
  }

  onReceiveStatus(received: StatusObject): void {
    if (this.settled) return;
    const { closed } = this.channel;
    if (this.bare && mayReplay(received, this.responded, closed, this.replays)) {
      this.replays++;
      this.channel.replayed();
      replaySoon(() => {
        if (!this.settled) this.resend();
      });
      return;
    }
    const status = statusAfterClose(received, this.responded, closed);
    this.options.onTrailer?.(incomingMetadata(status.metadata));
    if (status.code !== Status.OK) {
      this.failed(new ClientError(this.method.path, status.code, status.details));
      return;
    }
    if (this.response === undefined) {
      this.settle(undefined, new ClientError(this.method.path, Status.INTERNAL, "No message received"));
      return;
    }
    let value: unknown;
    try {
      value = this.method.deserialize(this.response);
    } catch (error) {
      this.settle(undefined, messageError(this.method.path, "response", error));
      return;
    }
    this.settle(value, undefined);
  }

  /** Whether attempts are bare grpc-js calls, whose refused streams this class sends again. */
  private bare = false;

  /** Sends the call again after a refused stream (calls on bare attempts). */
  protected resend(): void {}

  /** An attempt failed; unary calls may retry. */
  protected failed(error: ClientError): void {
    this.settle(undefined, error);
  }

  /** Waits `delayMs` (or until the deadline, which then ends the call) and runs `next`. */
  protected after(delayMs: number, next: () => void): void {
    const left = this.deadline - Date.now();
    if (delayMs >= left) {
      this.backoff = setTimeout(
        () => {
          this.settle(undefined, new ClientError(this.method.path, Status.DEADLINE_EXCEEDED, "Deadline exceeded"));
        },
        Math.max(0, left),
      );
      return;
    }
    this.backoff = setTimeout(() => {
      this.backoff = undefined;
      if (!this.settled) next();
    }, delayMs);
  }

  private abort(signal: AbortSignal): void {
    if (this.settled) return;
    this.call?.cancelWithStatus(Status.CANCELLED, "Cancelled on client");
    this.settle(undefined, abortReason(signal));
  }

  protected settle(value: unknown, error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    if (this.backoff) clearTimeout(this.backoff);
    if (this.abortListener) this.options.signal!.removeEventListener("abort", this.abortListener);
    this.ended();
    if (error === undefined) this.resolve(value);
    else this.reject(error);
  }

  /** The call is over, whichever way. */
  protected ended(): void {}
}

/** @internal A unary call: one request, one response, retried per the retry settings. */
export class UnaryCall extends SingleResponseCall {
  private request: Buffer | undefined;
  private attempt = 0;

  constructor(
    channel: CallChannel,
    method: MethodInfo,
    options: EngineCallOptions,
    private readonly retry: ResolvedRetrySettings | false,
    resolve: (response: unknown) => void,
    reject: (error: unknown) => void,
  ) {
    super(channel, method, options, resolve, reject);
  }

  protected override resend(): void {
    this.send();
  }

  start(request: unknown): void {
    try {
      this.request = this.method.serialize(request);
    } catch (error) {
      this.settle(undefined, messageError(this.method.path, "request", error));
      return;
    }
    if (this.begin()) this.send();
  }

  private send(): void {
    const call = this.open(true);
    if (!call) return;
    call.sendMessageWithContext(NO_CONTEXT, this.request!);
    call.halfClose();
    call.startRead();
  }

  protected override failed(error: ClientError): void {
    // A closed client's calls end now: a retry could only fail with ClientClosedError.
    const delay = this.channel.closed
      ? undefined
      : retryDelay(error, this.attempt, this.method, this.options, this.retry);
    if (delay === undefined) {
      this.settle(undefined, error);
      return;
    }
    this.options.onRetryableError?.(error, this.attempt, delay);
    this.attempt++;
    this.after(delay, () => this.send());
  }
}

/** @internal A client-streaming call: requests from an async iterable, one response. */
export class ClientStreamingCall extends SingleResponseCall {
  private pump: RequestPump | undefined;

  start(requests: AsyncIterable<unknown>): void {
    if (!this.begin()) return;
    const call = this.open(false);
    if (!call) return;
    call.startRead();
    this.pump = new RequestPump(call, this.method);
    this.pump.run(requests).catch((error: unknown) => {
      call.cancelWithStatus(Status.CANCELLED, "Cancelled on client");
      this.settle(undefined, error);
    });
  }

  protected override ended(): void {
    this.pump?.stop();
  }
}

/** @internal Runs a unary call. */
export function unaryCall(
  channel: CallChannel,
  method: MethodInfo,
  request: unknown,
  options: EngineCallOptions,
  retry: ResolvedRetrySettings | false,
): Promise<unknown> {
  return new Promise((resolve, reject) =>
    new UnaryCall(channel, method, options, retry, resolve, reject).start(request),
  );
}

/** @internal Runs a client-streaming call. */
export function clientStreamingCall(
  channel: CallChannel,
  method: MethodInfo,
  requests: AsyncIterable<unknown>,
  options: EngineCallOptions,
): Promise<unknown> {
  return new Promise((resolve, reject) =>
    new ClientStreamingCall(channel, method, options, resolve, reject).start(requests),
  );
}
