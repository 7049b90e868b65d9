import type { Metadata as GrpcMetadata } from "@grpc/grpc-js";
import type { DeadlineOptions } from "nice-grpc-client-middleware-deadline";
import type { RetryOptions } from "nice-grpc-client-middleware-retry";
import { type ClientMiddleware, Metadata } from "nice-grpc-common";

/** Per-call options the SDK adds to nice-grpc's `CallOptions`. */
export interface WaitForReadyOptions {
  /**
   * Wait for a connection to become ready instead of failing at once while
   * the servers are unreachable. The call's deadline still applies.
   * @default false
   */
  waitForReady?: boolean;
}

/**
 * Every per-call option of an SDK client, besides nice-grpc's own `signal`,
 * `metadata`, `onHeader` and `onTrailer`:
 * `deadline` (a `Date`, or ms from now), the retry options, `waitForReady`.
 */
export type SdkCallOptions = DeadlineOptions & RetryOptions & WaitForReadyOptions;

/**
 * Reserved header that carries the call's absolute deadline and waitForReady
 * from the SDK middleware to the ChannelPool, which removes it before the call
 * is sent. nice-grpc hands grpc-js nothing but a fresh copy of the metadata,
 * so this is the one way through.
 */
export const CALL_OPTIONS_HEADER = "balanced-grpc-call-options";

/** What the carrier header holds. */
export interface CarriedOptions {
  /** Absolute deadline, epoch ms. */
  deadline?: number;
  waitForReady: boolean;
}

/**
 * Turns `deadline` into an absolute time once per call (so every retry
 * attempt shares it) and hands it, with `waitForReady`, to the channel: grpc-js
 * then sends the remaining time as `grpc-timeout`, so the server knows its
 * deadline.
 */
export const callOptionsMiddleware: ClientMiddleware<SdkCallOptions, SdkCallOptions> = async function* callOptions(
  call,
  options,
) {
  const { waitForReady = false, deadline, ...rest } = options;
  if (deadline === undefined && !waitForReady) return yield* call.next(call.request, rest);
  const absolute =
    deadline === undefined ? undefined : deadline instanceof Date ? deadline : new Date(Date.now() + deadline);
  const metadata = Metadata(options.metadata);
  metadata.set(CALL_OPTIONS_HEADER, `${absolute?.getTime() ?? ""};${waitForReady ? 1 : 0}`);
  return yield* call.next(call.request, { ...rest, metadata, ...(absolute ? { deadline: absolute } : {}) });
};

/** Reads and removes the carrier header from the metadata grpc-js is about to send. */
export function takeCarriedOptions(metadata: GrpcMetadata): CarriedOptions | undefined {
  const values = metadata.get(CALL_OPTIONS_HEADER);
  if (values.length === 0) return undefined;
  metadata.remove(CALL_OPTIONS_HEADER);
  const [deadline = "", waitForReady] = String(values[0]).split(";");
  return { ...(deadline === "" ? {} : { deadline: Number(deadline) }), waitForReady: waitForReady === "1" };
}
