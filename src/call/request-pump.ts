import type { experimental } from "@grpc/grpc-js";
import type { MethodInfo } from "./method.js";

/**
 * @internal
 * Sends the messages of an async iterable on a call, one at a time: the next
 * is pulled only when grpc-js has written the last one (its flow control),
 * then the call is half-closed. Stops pulling, and lets the iterable clean up,
 * once the call is over.
 */
export class RequestPump {
  private stopped = false;
  private pending: (() => void) | undefined;

  constructor(
    private readonly call: experimental.CallStream,
    private readonly method: MethodInfo,
  ) {}

  /** Rejects if the iterable throws or a message cannot be serialized; the caller then cancels the call. */
  async run(requests: AsyncIterable<unknown>): Promise<void> {
    for await (const request of requests) {
      if (this.stopped) return; // leaving the loop calls the iterable's return()
      const message = this.method.serialize(request);
      await new Promise<void>((resolve) => {
        this.pending = resolve;
        this.call.sendMessageWithContext({ callback: this.written }, message);
      });
      if (this.stopped) return;
    }
    if (!this.stopped) this.call.halfClose();
  }

  /** The call is over: a write grpc-js will never confirm must not hold the loop. */
  stop(): void {
    this.stopped = true;
    this.written();
  }

  private readonly written = (): void => {
    const pending = this.pending;
    this.pending = undefined;
    pending?.();
  };
}
