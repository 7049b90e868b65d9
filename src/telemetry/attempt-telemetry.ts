import type { Metadata as GrpcMetadata, StatusObject } from "@grpc/grpc-js";
import type { Span } from "@opentelemetry/api";
import type { Route } from "../balancer/pick-note.js";
import type { CallListener, CallStream } from "../call/call-types.js";
import type { ReplayListener } from "../channel/replaying-call.js";
import { REFUSED_STREAM_DETAILS } from "../grpc-js-errors.js";

type MessageContext = Parameters<CallStream["sendMessageWithContext"]>[0];

/** @internal What an attempt reports to: its call's telemetry. */
export interface AttemptOwner {
  /** An attempt goes on the wire with `metadata`: its span (if traced), its context in the metadata. */
  attemptStarted(kind: AttemptKind, metadata: GrpcMetadata): Span | undefined;
  /** An attempt ended with `code` from the backend at `peer`. */
  attemptEnded(
    span: Span | undefined,
    code: number,
    details: string,
    peer: string,
    seconds: number,
    sentBytes: number,
    receivedBytes: number,
    sent: number,
    received: number,
  ): void;
}

/** @internal Why an attempt was made (gRFC A72's attempt span says whether it was a retry or transparent). */
export type AttemptKind = "first" | "retry" | "hedge" | "transparent_retry";

/** The code a refused stream ends with (grpc-js's UNAVAILABLE): how a replayed attempt ended. */
const UNAVAILABLE = 14;

/**
 * @internal
 * One attempt of a call as telemetry sees it: grpc-js's call and its
 * listener, wrapped, so the engine drives it unchanged. Counts the bytes
 * sent and received, and ends the attempt's span and metrics on its status.
 * A refused stream the channel replays (see channel/replaying-call.ts) is a
 * new attempt on the wire: its own span (a transparent retry), its own
 * `traceparent`. Made only while an SDK is registered.
 */
export class AttemptTelemetry implements CallStream, CallListener, ReplayListener {
  private listener: CallListener | undefined;
  private span: Span | undefined;
  private startedAt = 0;
  private sentBytes = 0;
  private receivedBytes = 0;
  private sent = 0;
  private received = 0;

  constructor(
    private readonly owner: AttemptOwner,
    private readonly call: CallStream,
    private kind: AttemptKind,
  ) {}

  // --- The call, for the engine ---------------------------------------------

  start(metadata: GrpcMetadata, listener: CallListener): void {
    this.listener = listener;
    this.begin(metadata);
    this.call.start(metadata, this);
  }
  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    this.sent++;
    this.sentBytes += message.length;
    this.call.sendMessageWithContext(context, message);
  }
  cancelWithStatus(...args: Parameters<CallStream["cancelWithStatus"]>): void {
    this.call.cancelWithStatus(...args);
  }
  getPeer(): string {
    return this.call.getPeer();
  }
  route(): Route | undefined {
    return this.call.route();
  }
  startRead(): void {
    this.call.startRead();
  }
  halfClose(): void {
    this.call.halfClose();
  }
  getCallNumber(): number {
    return this.call.getCallNumber();
  }
  setCredentials(credentials: Parameters<CallStream["setCredentials"]>[0]): void {
    this.call.setCredentials(credentials);
  }
  getAuthContext(): ReturnType<CallStream["getAuthContext"]> {
    return this.call.getAuthContext();
  }

  // --- The listener, for grpc-js -------------------------------------------

  onReceiveMetadata(metadata: GrpcMetadata): void {
    this.listener!.onReceiveMetadata(metadata);
  }
  onReceiveMessage(message: Buffer): void {
    this.received++;
    this.receivedBytes += message.length;
    this.listener!.onReceiveMessage(message);
  }
  onReceiveStatus(status: StatusObject): void {
    this.end(status.code, status.details, this.call.getPeer());
    this.listener!.onReceiveStatus(status);
  }

  /** The channel sends the refused stream again: this attempt ended, a transparent retry starts. */
  onReplay(metadata: GrpcMetadata, refusedBy: Route | undefined): void {
    this.end(UNAVAILABLE, REFUSED_STREAM_DETAILS, refusedBy?.backend ?? "");
    this.kind = "transparent_retry";
    // Nothing was received (else no replay); what was sent so far is sent again.
    this.begin(metadata);
  }

  private begin(metadata: GrpcMetadata): void {
    this.startedAt = performance.now();
    this.span = this.owner.attemptStarted(this.kind, metadata);
  }

  private end(code: number, details: string, peer: string): void {
    this.owner.attemptEnded(
      this.span,
      code,
      details,
      peer,
      (performance.now() - this.startedAt) / 1000,
      this.sentBytes,
      this.receivedBytes,
      this.sent,
      this.received,
    );
    this.span = undefined;
  }
}
