import type { Counter, Histogram, Meter, MeterProvider } from "@opentelemetry/api";
import type { Otel } from "./otel-api.js";

/** The instrumentation scope of every span and instrument the SDK makes. */
export const SCOPE = "balanced-grpc";

/** gRFC A66's latency buckets, seconds. */
const LATENCY_BUCKETS = [
  0, 0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.013,
  0.016, 0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 2, 5, 10,
  20, 50, 100,
];
/** gRFC A66's size buckets, bytes. */
const SIZE_BUCKETS = [
  0, 1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824, 4294967296,
];
/** Retries, transparent retries and hedges per call (gRFC A96's buckets). */
const COUNT_BUCKETS = [1, 2, 3, 4, 5];

/** @internal gRFC A66's client instruments and A96's retry instruments, on one meter. */
export interface ClientInstruments {
  attemptStarted: Counter;
  attemptDuration: Histogram;
  attemptSent: Histogram;
  attemptReceived: Histogram;
  callDuration: Histogram;
  retries: Histogram;
  transparentRetries: Histogram;
  hedges: Histogram;
  retryDelay: Histogram;
}

/** @internal gRFC A66's server instruments. */
export interface ServerInstruments {
  callStarted: Counter;
  callDuration: Histogram;
  callSent: Histogram;
  callReceived: Histogram;
}

const seconds = (meter: Meter, name: string, description: string) =>
  meter.createHistogram(name, { description, unit: "s", advice: { explicitBucketBoundaries: LATENCY_BUCKETS } });
const bytes = (meter: Meter, name: string, description: string) =>
  meter.createHistogram(name, { description, unit: "By", advice: { explicitBucketBoundaries: SIZE_BUCKETS } });
const perCall = (meter: Meter, name: string, unit: string, description: string) =>
  meter.createHistogram(name, { description, unit, advice: { explicitBucketBoundaries: COUNT_BUCKETS } });

function makeClientInstruments(meter: Meter): ClientInstruments {
  return {
    attemptStarted: meter.createCounter("grpc.client.attempt.started", {
      description: "Attempts started, including transparent retries.",
      unit: "{attempt}",
    }),
    attemptDuration: seconds(meter, "grpc.client.attempt.duration", "End-to-end time of an attempt."),
    attemptSent: bytes(
      meter,
      "grpc.client.attempt.sent_total_compressed_message_size",
      "Bytes of messages sent per attempt (the SDK compresses nothing: the encoded size).",
    ),
    attemptReceived: bytes(
      meter,
      "grpc.client.attempt.rcvd_total_compressed_message_size",
      "Bytes of messages received per attempt (as grpc-js hands them over, decompressed).",
    ),
    callDuration: seconds(meter, "grpc.client.call.duration", "Time of a call as the application sees it."),
    retries: perCall(meter, "grpc.client.call.retries", "{retry}", "Retries of a call that had any."),
    transparentRetries: perCall(
      meter,
      "grpc.client.call.transparent_retries",
      "{transparent_retry}",
      "Refused-stream replays of a call that had any.",
    ),
    hedges: perCall(meter, "grpc.client.call.hedges", "{hedge}", "Hedges of a call that had any."),
    retryDelay: seconds(meter, "grpc.client.call.retry_delay", "Time a call waited between its attempts."),
  };
}

function makeServerInstruments(meter: Meter): ServerInstruments {
  return {
    callStarted: meter.createCounter("grpc.server.call.started", { description: "Calls started.", unit: "{call}" }),
    callDuration: seconds(meter, "grpc.server.call.duration", "Time from a call's start to its status."),
    callSent: bytes(meter, "grpc.server.call.sent_total_compressed_message_size", "Bytes of messages sent per call."),
    callReceived: bytes(
      meter,
      "grpc.server.call.rcvd_total_compressed_message_size",
      "Bytes of messages received per call.",
    ),
  };
}

/**
 * @internal
 * The instruments of the global meter provider, made once per provider; undefined
 * while it is the API's no-op one. OpenTelemetry's metrics API has no proxy:
 * an instrument made before the application registers its SDK stays a no-op,
 * so this looks at the global provider on each call (a property read) and
 * makes the instruments again when it changed.
 */
export class MeterWatch<I> {
  private provider: MeterProvider | undefined;
  private meter: Meter | undefined;
  private current: I | undefined;

  constructor(
    private readonly api: Otel,
    private readonly make: (meter: Meter) => I,
    /** Called with the new meter (or undefined for a no-op provider) when the provider changed. */
    private readonly changed?: (meter: Meter | undefined) => void,
  ) {}

  /** The instruments, or undefined while no SDK is registered. */
  get(): I | undefined {
    const provider = this.api.metrics.getMeterProvider();
    if (provider !== this.provider) this.switchTo(provider);
    return this.current;
  }

  private switchTo(provider: MeterProvider): void {
    this.provider = provider;
    const meter = provider.getMeter(SCOPE);
    const noop = meter === this.api.createNoopMeter();
    this.meter = noop ? undefined : meter;
    this.current = noop ? undefined : this.make(meter);
    this.changed?.(this.meter);
  }
}

/** @internal A watch of the client instruments. */
export const watchClientInstruments = (api: Otel, changed?: (meter: Meter | undefined) => void) =>
  new MeterWatch(api, makeClientInstruments, changed);

/** @internal A watch of the server instruments. */
export const watchServerInstruments = (api: Otel) => new MeterWatch(api, makeServerInstruments);
