import { type Metadata as GrpcMetadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import { ClientError } from "nice-grpc-common";
import type { ResolvedRetrySettings } from "../client-options.js";
import { CallLifecycle } from "./call-lifecycle.js";
import type { CallChannel, CallListener, EngineCallOptions } from "./call-types.js";
import { type MethodInfo, messageError } from "./method.js";
import { retryDelay } from "./retry.js";
import { decodeResponse } from "./single-response.js";

const NO_CONTEXT = {};

/**
 * @internal
 * A unary call: one request, one response, retried per the retry settings.
 * It is grpc-js's listener itself, so an attempt allocates little of its own.
 */
class UnaryCall implements CallListener {
  private readonly life: CallLifecycle;
  private request: Buffer | undefined;
  private response: Buffer | undefined;
  private value: unknown;
  private attempt = 0;

  constructor(
    private readonly channel: CallChannel,
    private readonly method: MethodInfo,
    private readonly options: EngineCallOptions,
    private readonly retry: ResolvedRetrySettings | false,
    resolve: (response: unknown) => void,
    reject: (error: unknown) => void,
  ) {
    this.life = new CallLifecycle(method.path, options, (error) =>
      error === undefined ? resolve(this.value) : reject(error),
    );
  }

  start(request: unknown): void {
    try {
      this.request = this.method.serialize(request);
    } catch (error) {
      this.life.finish(messageError(this.method.path, "request", error));
      return;
    }
    if (this.life.begin()) this.send();
  }

  private send(): void {
    this.response = undefined;
    const call = this.life.open(this.channel, this);
    if (!call) return;
    call.sendMessageWithContext(NO_CONTEXT, this.request!);
    call.halfClose();
    call.startRead();
  }

  onReceiveMetadata(metadata: GrpcMetadata): void {
    this.life.header(metadata);
  }

  onReceiveMessage(message: Buffer): void {
    this.response = message;
  }

  onReceiveStatus(status: StatusObject): void {
    if (this.life.ended) return;
    this.life.trailer(status.metadata);
    if (status.code !== Status.OK) {
      this.failed(new ClientError(this.method.path, status.code, status.details));
      return;
    }
    const outcome = decodeResponse(this.method, this.response);
    if (outcome.error === undefined) this.value = outcome.value;
    this.life.finish(outcome.error);
  }

  private failed(error: ClientError): void {
    // A closed client's calls end now: a retry could only fail with ClientClosedError.
    const delay = this.channel.closed
      ? undefined
      : retryDelay(error, this.attempt, this.method, this.options, this.retry);
    if (delay === undefined) {
      this.life.finish(error);
      return;
    }
    this.options.onRetryableError?.(error, this.attempt, delay);
    this.attempt++;
    this.life.after(delay, () => this.send());
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
