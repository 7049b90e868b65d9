import type { experimental } from "@grpc/grpc-js";
import { STREAM_WRITE_AHEAD } from "../defaults.js";
import type { MethodInfo } from "./method.js";

/**
 * @internal
 * Sends the messages of an async iterable on a call, then half-closes. The
 * first message goes alone: until the stream is up, grpc-js holds one
 * message and only one. Once its write callback came, up to
 * {@link STREAM_WRITE_AHEAD} writes may be in flight, and the next message is
 * pulled from the iterable while earlier ones are written; beyond that the
 * iterable waits (backpressure). Once the call is over, pulls nothing more and
 * lets the iterable clean up.
 */
export class RequestPump {
  private stopped = false;
  private ended = false;
  private iterator: AsyncIterator<unknown> | undefined;
  private pulling = false;
  private inFlight = 0;
  private window = 1;
  private done: { resolve(): void; reject(error: unknown): void } | undefined;

  constructor(
    private readonly call: experimental.CallStream,
    private readonly method: MethodInfo,
  ) {}

  /** Rejects if the iterable throws or a message cannot be serialized; the caller then cancels the call. */
  run(requests: AsyncIterable<unknown>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.done = { resolve, reject };
      try {
        this.iterator = requests[Symbol.asyncIterator]();
        this.pull();
      } catch (error) {
        this.finish(error);
      }
    });
  }

  /** The call is over: stop, and let the iterable clean up. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.ended) this.close();
    this.finish(undefined);
  }

  private pull(): void {
    if (this.pulling || this.ended || this.stopped || this.inFlight >= this.window) return;
    this.pulling = true;
    this.iterator!.next().then(this.send, this.failed);
  }

  private readonly send = (result: IteratorResult<unknown>): void => {
    this.pulling = false;
    if (this.stopped) {
      if (!result.done) this.close();
      return;
    }
    if (result.done) {
      this.ended = true;
      if (this.inFlight === 0) this.halfClose();
      return;
    }
    let message: Buffer;
    try {
      message = this.method.serialize(result.value);
    } catch (error) {
      this.ended = true;
      this.close();
      this.finish(error);
      return;
    }
    this.inFlight++;
    this.call.sendMessageWithContext({ callback: this.written }, message);
    this.pull(); // the next one, while this one is written
  };

  private readonly written = (): void => {
    this.inFlight--;
    this.window = STREAM_WRITE_AHEAD; // the stream is up
    if (this.stopped) return;
    if (this.ended) {
      if (this.inFlight === 0) this.halfClose();
      return;
    }
    this.pull();
  };

  private readonly failed = (error: unknown): void => {
    this.pulling = false;
    this.ended = true;
    this.finish(error);
  };

  private halfClose(): void {
    this.call.halfClose();
    this.finish(undefined);
  }

  private close(): void {
    this.ended = true;
    this.iterator?.return?.().catch(() => {});
  }

  private finish(error: unknown): void {
    const done = this.done;
    this.done = undefined;
    if (!done) return;
    if (error === undefined) done.resolve();
    else done.reject(error);
  }
}
