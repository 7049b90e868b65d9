import type { Metadata as GrpcMetadata } from "@grpc/grpc-js";
import type { Attributes, Context, Span, TextMapSetter, Tracer } from "@opentelemetry/api";
import type { CallObserver, CallStream } from "../call/call-types.js";
import { type AttemptKind, type AttemptOwner, AttemptTelemetry } from "./attempt-telemetry.js";
import type { ClientInstruments } from "./instruments.js";
import type { MethodTelemetry } from "./method-telemetry.js";
import type { Otel } from "./otel-api.js";
import { statusOfOutcome } from "./status-code.js";
import { peerAttributes } from "./target-attributes.js";

/** Writes the propagator's fields (`traceparent`, …) into an attempt's grpc-js metadata. */
const METADATA_SETTER: TextMapSetter<GrpcMetadata> = {
  set: (metadata, key, value) => metadata.set(key, value),
};

// SpanKind and SpanStatusCode values (stable in the API), without loading it for the constants.
const SPAN_KIND_CLIENT = 2;
const SPAN_KIND_INTERNAL = 0;
const STATUS_ERROR = 2;

/**
 * @internal
 * One call's telemetry (made only while an SDK is registered): its CLIENT
 * span, a child of the caller's active context, with a child span per attempt
 * (gRFC A72), each attempt's context injected into its metadata with the
 * global propagator; and gRFC A66's call and attempt metrics.
 */
export class CallTelemetry implements CallObserver, AttemptOwner {
  private span: Span | undefined;
  /** The context attempts are made in: the call span's, or the caller's when only metrics are on. */
  private context: Context | undefined;
  private startedAt = 0;
  private attempts = 0;
  private retries = 0;
  private transparentRetries = 0;
  private hedges = 0;
  private delaySeconds = 0;
  private over = false;

  constructor(
    private readonly api: Otel,
    private readonly method: MethodTelemetry,
    /** The SDK's tracer, or undefined when only metrics are on. */
    private readonly tracer: Tracer | undefined,
    private readonly instruments: ClientInstruments | undefined,
  ) {}

  /** The call starts, in the caller's context. */
  begin(): void {
    if (this.startedAt !== 0) return;
    this.startedAt = performance.now();
    const { api, method, tracer } = this;
    if (!tracer) return;
    const parent = api.context.active();
    this.span = tracer.startSpan(
      method.spanName,
      { kind: SPAN_KIND_CLIENT, attributes: method.spanAttributes },
      parent,
    );
    this.context = api.trace.setSpan(parent, this.span);
  }

  /** Wraps an attempt the lifecycle is opening; `alongside` for a hedge. */
  attempt(call: CallStream, alongside: boolean): AttemptTelemetry {
    const kind: AttemptKind = alongside ? "hedge" : this.attempts > 0 ? "retry" : "first";
    if (kind === "hedge") this.hedges++;
    else if (kind === "retry") this.retries++;
    return new AttemptTelemetry(this, call, kind);
  }

  /** The call waited `ms` before its next attempt (a retry's backoff). */
  waited(ms: number): void {
    this.delaySeconds += ms / 1000;
  }

  /** @internal An attempt goes on the wire with `metadata`: its span, its context in the metadata. */
  attemptStarted(kind: AttemptKind, metadata: GrpcMetadata): Span | undefined {
    const previous = this.attempts++;
    if (kind === "transparent_retry") this.transparentRetries++;
    this.instruments?.attemptStarted.add(1, this.method.metricAttributes);
    const { api, method, tracer } = this;
    if (!tracer) return undefined;
    const attributes: Attributes = {
      "balanced_grpc.attempt.kind": kind,
      "grpc.previous_rpc_attempts": previous,
      "grpc.transparent_retry": kind === "transparent_retry",
    };
    const span = tracer.startSpan(method.attemptSpanName, { kind: SPAN_KIND_INTERNAL, attributes }, this.context);
    api.propagation.inject(api.trace.setSpan(this.context!, span), metadata, METADATA_SETTER);
    return span;
  }

  /** @internal An attempt ended with `code` from the backend at `peer`. */
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
  ): void {
    const instruments = this.instruments;
    if (instruments) {
      const attributes = this.method.withStatus(code);
      instruments.attemptDuration.record(seconds, attributes);
      instruments.attemptSent.record(sentBytes, attributes);
      instruments.attemptReceived.record(receivedBytes, attributes);
    }
    if (!span) return;
    span.setAttributes({
      ...peerAttributes(peer),
      "rpc.grpc.status_code": code,
      "balanced_grpc.messages.sent": sent,
      "balanced_grpc.messages.received": received,
    });
    if (code !== 0) span.setStatus({ code: STATUS_ERROR, message: details });
    span.end();
  }

  /** The call ended, once: undefined for success, else what it failed with. */
  end(error: unknown): void {
    if (this.over) return;
    this.over = true;
    if (this.startedAt === 0) this.begin(); // ended before it began: a request that could not be serialized
    const code = statusOfOutcome(error);
    const instruments = this.instruments;
    if (instruments) {
      const base = this.method.metricAttributes;
      instruments.callDuration.record((performance.now() - this.startedAt) / 1000, this.method.withStatus(code));
      if (this.retries > 0) instruments.retries.record(this.retries, base);
      if (this.transparentRetries > 0) instruments.transparentRetries.record(this.transparentRetries, base);
      if (this.hedges > 0) instruments.hedges.record(this.hedges, base);
      if (this.delaySeconds > 0) instruments.retryDelay.record(this.delaySeconds, base);
    }
    const span = this.span;
    if (!span) return;
    span.setAttribute("rpc.grpc.status_code", code);
    if (code !== 0) {
      span.setStatus({ code: STATUS_ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    span.end();
  }
}
