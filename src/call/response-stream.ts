import { type Metadata as GrpcMetadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import { ClientError } from "nice-grpc-common";
import { STREAM_READ_AHEAD } from "../defaults.js";
import { CallLifecycle, type CallOwner } from "./call-lifecycle.js";
import type { CallChannel, CallListener, CallStream, EngineCallOptions } from "./call-types.js";
import { type MethodInfo, messageError } from "./method.js";
import { RequestPump } from "./request-pump.js";

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
export class ResponseStream implements AsyncIterableIterator<unknown>, CallListener, CallOwner {
  private readonly life: CallLifecycle;
  private call: CallStream | undefined;
  private pump: RequestPump | undefined;
  private readonly buffer: unknown[] = [];
  private reading = false;
  private started = false;
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

  constructor(
    private readonly channel: CallChannel,
    private readonly method: MethodInfo,
    private readonly request: unknown,
    options: EngineCallOptions,
  ) {
    this.life = new CallLifecycle(method.path, options, this, channel.telemetry?.startCall(method));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    if (!this.started) {
      this.started = true;
      this.begin();
    }
    if (this.buffer.length > 0) {
      const value = this.buffer.shift();
      this.readMore();
      return Promise.resolve({ value, done: false });
    }
    if (this.life.ended) {
      if (this.error === undefined) return Promise.resolve(DONE);
      const error = this.error;
      this.error = undefined; // thrown once; the iterator is done after
      return Promise.reject(error);
    }
    return new Promise(this.waitForNext);
  }

  /** The consumer left the loop: cancel the call if it is still running. */
  return(): Promise<IteratorResult<unknown>> {
    this.started = true; // a stream left before it started never starts
    this.life.cancel(undefined);
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
    this.life.header(metadata);
  }

  onReceiveMessage(message: Buffer): void {
    this.reading = false;
    if (this.life.ended) return;
    let value: unknown;
    try {
      value = this.method.deserialize(message);
    } catch (error) {
      const parseError = messageError(this.method.path, "response", error);
      this.life.cancel(parseError, Status.INTERNAL, parseError.details);
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

  onReceiveStatus(status: StatusObject): void {
    if (this.life.ended || !this.life.trailer(status.metadata)) return;
    this.life.finish(
      status.code === Status.OK ? undefined : new ClientError(this.method.path, status.code, status.details),
    );
  }

  private begin(): void {
    if (!this.life.begin()) return;
    let message: Buffer | undefined;
    if (this.method.kind !== "bidiStreaming") {
      try {
        message = this.method.serialize(this.request);
      } catch (error) {
        this.life.finish(messageError(this.method.path, "request", error));
        return;
      }
    }
    const call = this.life.open(this.channel, this);
    if (!call) return;
    this.call = call;
    if (message) {
      call.sendMessageWithContext(NO_CONTEXT, message);
      call.halfClose();
    } else {
      this.pump = new RequestPump(call, this.method);
      this.pump.run(this.request as AsyncIterable<unknown>).catch((error: unknown) => this.life.cancel(error));
    }
    this.readMore();
  }

  private readMore(): void {
    if (this.reading || this.life.ended || this.call === undefined || this.buffer.length >= STREAM_READ_AHEAD) return;
    this.reading = true;
    this.call.startRead();
  }

  /** The call is over, whichever way: the consumer's pending next() learns it, or the next one will. */
  callEnded(error: unknown): void {
    this.pump?.stop();
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
