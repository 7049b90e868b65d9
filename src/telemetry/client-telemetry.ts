import type { Attributes } from "@opentelemetry/api";
import type { ConnectionStats } from "../balancer/connection.js";
import type { CallObservers } from "../call/call-types.js";
import type { MethodInfo } from "../call/method.js";
import { CallTelemetry } from "./call-telemetry.js";
import { type ClientInstruments, type MeterWatch, watchClientInstruments } from "./instruments.js";
import { MethodTelemetry } from "./method-telemetry.js";
import { type Otel, otelApi } from "./otel-api.js";
import { PoolMetrics } from "./pool-metrics.js";
import { targetAttributes } from "./target-attributes.js";
import { TracerWatch } from "./tracer-watch.js";

/**
 * @internal
 * A client's telemetry, through the global OpenTelemetry providers, made
 * when `@opentelemetry/api` is installed and `telemetry` is not false.
 *
 * Cost when no SDK is registered: each call asks the API's globals whether a
 * tracer or meter provider is registered (a few property reads), allocates
 * nothing, and runs exactly as without telemetry. Providers registered after
 * the client was made are picked up at its next call.
 */
export class ClientTelemetry implements CallObservers {
  readonly pool: PoolMetrics;
  private readonly tracer: TracerWatch;
  private readonly instruments: MeterWatch<ClientInstruments>;
  private readonly targetAttributes: Attributes;
  private readonly methods = new Map<string, MethodTelemetry>();
  private closed = false;

  constructor(
    private readonly api: Otel,
    private readonly target: string,
    stats: () => ConnectionStats[],
  ) {
    this.tracer = new TracerWatch(api);
    this.targetAttributes = targetAttributes(target);
    this.pool = new PoolMetrics(target, stats);
    this.instruments = watchClientInstruments(api, (meter) => {
      if (!this.closed) this.pool.use(meter);
    });
    this.instruments.get();
  }

  /** A call's telemetry, or undefined (nothing to do) while no SDK is registered. */
  startCall(method: MethodInfo): CallTelemetry | undefined {
    const instruments = this.instruments.get();
    const tracer = this.tracer.get();
    if (!tracer && !instruments) return undefined;
    return new CallTelemetry(this.api, this.method(method.path), tracer, instruments);
  }

  /** The client closed: its pool is no longer observed. */
  close(): void {
    this.closed = true;
    this.pool.use(undefined);
  }

  private method(path: string): MethodTelemetry {
    let method = this.methods.get(path);
    if (!method) {
      method = new MethodTelemetry(path, this.target, this.targetAttributes);
      this.methods.set(path, method);
    }
    return method;
  }
}

/** @internal The telemetry of a client or channel, or undefined when it is off or the API is not installed. */
export function clientTelemetry(
  enabled: boolean,
  target: string,
  stats: () => ConnectionStats[],
): ClientTelemetry | undefined {
  if (!enabled) return undefined;
  const api = otelApi();
  return api ? new ClientTelemetry(api, target, stats) : undefined;
}
