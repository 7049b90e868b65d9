import { type Metadata as GrpcMetadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import { ClientError } from "nice-grpc-common";
import { CallLifecycle, type CallOwner } from "./call-lifecycle.js";
import type { CallChannel, CallListener, EngineCallOptions } from "./call-types.js";
import type { MethodInfo } from "./method.js";
import { RequestPump } from "./request-pump.js";
import { decodeResponse } from "./single-response.js";

/**
 * @internal
 * A client-streaming call: requests from an async iterable, one response.
 * Not retried (its requests are consumed as they are sent); a refused stream
 * is still sent again by the channel's call.
 */
class ClientStreamingCall implements CallListener, CallOwner {
  private readonly life: CallLifecycle;
  private pump: RequestPump | undefined;
  private response: Buffer | undefined;
  private value: unknown;

  constructor(
    private readonly channel: CallChannel,
    private readonly method: MethodInfo,
    options: EngineCallOptions,
    private readonly resolve: (response: unknown) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.life = new CallLifecycle(method.path, options, this, channel.telemetry?.startCall(method));
  }

  callEnded(error: unknown): void {
    this.pump?.stop();
    if (error === undefined) this.resolve(this.value);
    else this.reject(error);
  }

  start(requests: AsyncIterable<unknown>): void {
    if (!this.life.begin()) return;
    const call = this.life.open(this.channel, this);
    if (!call) return;
    call.startRead();
    this.pump = new RequestPump(call, this.method);
    this.pump.run(requests).catch((error: unknown) => this.life.cancel(error));
  }

  onReceiveMetadata(metadata: GrpcMetadata): void {
    this.life.header(metadata);
  }

  onReceiveMessage(message: Buffer): void {
    this.response = message;
  }

  onReceiveStatus(status: StatusObject): void {
    if (this.life.ended || !this.life.trailer(status.metadata)) return;
    if (status.code !== Status.OK) {
      this.life.finish(new ClientError(this.method.path, status.code, status.details));
      return;
    }
    const outcome = decodeResponse(this.method, this.response);
    if (outcome.error === undefined) this.value = outcome.value;
    this.life.finish(outcome.error);
  }
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
