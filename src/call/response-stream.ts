import { type experimental, type Metadata as GrpcMetadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import { ClientError } from "nice-grpc-common";
import { mayReplay, replaySoon, statusAfterClose } from "../channel/refused-stream.js";
import { STREAM_READ_AHEAD } from "../defaults.js";
import { abortReason } from "./abort.js";
import { incomingMetadata, outgoingMetadata } from "./metadata.js";
import { type MethodInfo, messageError } from "./method.js";
import { RequestPump } from "./request-pump.js";
import { absoluteDeadline, type CallChannel, type EngineCallOptions } from "./single-response-call.js";

type CallStream = experimental.CallStream;

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };
const NO_CONTEXT = {};

/**
 * @internal
 * The responses of a server-streaming or bidi call, as an async iterable
 * straight over grpc-js's call: no Node stream, no generator. The call starts
 * when iteration does (as with nice-grpc). It reads ahead of the consumer by
 * at most {@link STREAM_READ_AHEAD} messages and asks grpc-js for more only as
 * the consumer takes them: backpressure reaches the server through HTTP/2 flow
 * control. Leaving the loop early cancels the call.
 */
export class ResponseStream implements AsyncIterableIterator<unknown> {
  private call: CallStream | undefined;
  private pump: RequestPump | undefined;
  private readonly buffer: unknown[] = [];
  private reading = false;
  private finished = false;
  private responded = false;
  private replays = 0;
  private message: Buffer | undefined;
  private error: unknown;
  /** The consumer's pending next(), when it is ahead of the stream. */
  private resolveNext: ((result: IteratorResult<unknown>) => void) | undefined;
  private rejectNext: ((error: unknown) => void) | undefined;
  private readonly waitForNext = (
    resolve: (result: IteratorResult<unknown>) => void,
    reject: (error: unknown) => void,
  ) => {
    this.resolveNext = resolve;
    this.rejectNext = reject;
  };
  private abortListener: (() => void) | undefined;
  private deadline = Infinity;
  private started = false;

  constructor(
    private readonly channel: CallChannel,
    private readonly method: MethodInfo,
    private readonly request: unknown,
    private readonly options: EngineCallOptions,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.call === undefined && !this.finished && !this.started) {
      this.started = true;
      this.begin();
    }
    if (this.buffer.length > 0) {
      const value = this.buffer.shift();
      this.readMore();
      return Promise.resolve({ value, done: false });
    }
    if (this.finished) {
      if (this.error === undefined) return Promise.resolve(DONE);
      const error = this.error;
      this.error = undefined; // thrown once; the iterator is done after
      return Promise.reject(error);
    }
    return new Promise(this.waitForNext);
  }

  /** The consumer left the loop: cancel the call if it is still running. */
  return(): Promise<IteratorResult<unknown>> {
    if (!this.finished) {
      this.call?.cancelWithStatus(Status.CANCELLED, "Cancelled on client");
      this.finish(undefined);
    }
    this.buffer.length = 0;
    this.error = undefined;
    return Promise.resolve(DONE);
  }

  /** An error thrown into the iteration (a middleware's `yield*`): cancel the call, and rethrow it. */
  throw(error?: unknown): Promise<IteratorResult<unknown>> {
    void this.return();
    return Promise.reject(error);
  }

  onReceiveMetadata(metadata: GrpcMetadata): void {
    this.responded = true;
    this.options.onHeader?.(incomingMetadata(metadata));
  }

  onReceiveMessage(message: Buffer): void {
    this.responded = true;
    this.reading = false;
    if (this.finished) return;
    let value: unknown;
    try {
      value = this.method.deserialize(message);
    } catch (error) {
      const parseError = messageError(this.method.path, "response", error);
      this.call!.cancelWithStatus(Status.INTERNAL, parseError.details);
      this.finish(parseError);
      return;
    }
    const resolve = this.resolveNext;
    if (resolve) {
      this.resolveNext = undefined;
      this.rejectNext = undefined;
      resolve({ value, done: false });
    } else {
      this.buffer.push(value);
    }
    this.readMore();
  }

  onReceiveStatus(received: StatusObject): void {
    if (this.finished) return;
    const { closed } = this.channel;
    // A server stream's one request is kept, so a refused stream is sent again
    // here; a bidi call's PooledCall does that itself.
    if (this.message && mayReplay(received, this.responded, closed, this.replays)) {
      this.replays++;
      this.channel.replayed();
      this.reading = false;
      replaySoon(() => {
        if (!this.finished) this.open();
      });
      return;
    }
    const status = statusAfterClose(received, this.responded, closed);
    this.options.onTrailer?.(incomingMetadata(status.metadata));
    this.finish(status.code === Status.OK ? undefined : new ClientError(this.method.path, status.code, status.details));
  }

  private begin(): void {
    const { signal } = this.options;
    if (signal?.aborted) {
      this.finish(abortReason(signal));
      return;
    }
    if (this.method.kind !== "bidiStreaming") {
      try {
        this.message = this.method.serialize(this.request);
      } catch (error) {
        this.finish(messageError(this.method.path, "request", error));
        return;
      }
    }
    this.deadline = absoluteDeadline(this.options.deadline);
    if (signal) {
      this.abortListener = () => {
        if (this.finished) return;
        this.call?.cancelWithStatus(Status.CANCELLED, "Cancelled on client");
        this.finish(abortReason(signal));
      };
      signal.addEventListener("abort", this.abortListener);
    }
    this.open();
  }

  /** Starts an attempt: the first, or again after a refused stream. */
  private open(): void {
    let call: CallStream;
    try {
      const bidi = this.method.kind === "bidiStreaming";
      const args = [this.method.path, this.deadline, null, null, 0] as const;
      call = bidi ? this.channel.createCall(...args) : this.channel.attempt(...args);
      this.call = call;
      call.start(outgoingMetadata(this.options.metadata, this.options.waitForReady), this);
    } catch (error) {
      this.finish(error); // e.g. ClientClosedError
      return;
    }
    if (this.message) {
      call.sendMessageWithContext(NO_CONTEXT, this.message);
      call.halfClose();
    } else {
      this.pump = new RequestPump(call, this.method);
      this.pump.run(this.request as AsyncIterable<unknown>).catch((error: unknown) => {
        call.cancelWithStatus(Status.CANCELLED, "Cancelled on client");
        this.finish(error);
      });
    }
    this.readMore();
  }

  private readMore(): void {
    if (this.reading || this.finished || this.call === undefined || this.buffer.length >= STREAM_READ_AHEAD) return;
    this.reading = true;
    this.call.startRead();
  }

  private finish(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.pump?.stop();
    if (this.abortListener) this.options.signal!.removeEventListener("abort", this.abortListener);
    const resolve = this.resolveNext;
    const reject = this.rejectNext;
    this.resolveNext = undefined;
    this.rejectNext = undefined;
    if (resolve && reject) {
      if (error === undefined) resolve(DONE);
      else reject(error);
    } else {
      this.error = error;
    }
  }
}
