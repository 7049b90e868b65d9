import type { experimental } from "@grpc/grpc-js";
import type { CallOptions } from "nice-grpc-common";
import type { Route } from "../balancer/pick-note.js";
import type { SdkCallOptions } from "./call-options.js";
import type { MethodInfo } from "./method.js";

/** @internal grpc-js's call, as the engine drives it, and where its pick sent it (see channel/replaying-call.ts). */
export interface CallStream extends experimental.CallStream {
  /** The connection the attempt was picked for; undefined before its pick. */
  route(): Route | undefined;
}

/** @internal grpc-js's listener of a call's events; each call class of the engine is one. */
export type CallListener = Parameters<CallStream["start"]>[1];

/** @internal What a call is made on: a BalancedChannel, or a fake in unit tests. */
export interface CallChannel {
  readonly closed: boolean;
  /** The most metadata a call may send, bytes. */
  readonly maxMetadataSize: number;
  /**
   * A call between attempts: `close()` calls `end` (the call ends now) unless
   * released first. Returns the release.
   */
  waiting(end: () => void): () => void;
  /** Who observes the calls (the client's telemetry); undefined when off or `@opentelemetry/api` is not installed. */
  readonly telemetry?: CallObservers | undefined;
  /** A call that sends a refused stream again by itself (see channel/replaying-call.ts). */
  newCall(method: string, deadline: Date | number, host: null, parent: null, flags: number): CallStream;
}

/** @internal Options of one call, defaults applied. */
export type EngineCallOptions = CallOptions & SdkCallOptions;

/**
 * @internal
 * What the engine tells an observer of one call (its telemetry): the engine
 * declares it, telemetry implements it, so the engine knows nothing of
 * OpenTelemetry.
 */
export interface CallObserver {
  /** The call starts, in the caller's context. */
  begin(): void;
  /** An attempt the call opens, to be observed: returns the call to drive (the same, or one wrapping it); `hedge` for a hedge. */
  attempt(call: CallStream, hedge: boolean): CallStream;
  /** The call waited `ms` before its next attempt (a retry's backoff). */
  waited(ms: number): void;
  /** The call ended, once: `outcome` undefined for success, else the error (CANCELLED for a stream left early). */
  end(outcome: unknown): void;
}

/** @internal Who observes a client's calls: an observer for each call, or undefined when nothing observes it. */
export interface CallObservers {
  startCall(method: MethodInfo): CallObserver | undefined;
}
