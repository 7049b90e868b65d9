import type { Tracer, TracerProvider } from "@opentelemetry/api";
import { SCOPE } from "./instruments.js";
import type { Otel } from "./otel-api.js";

/**
 * @internal
 * The SDK's tracer while a tracer provider is registered, else undefined.
 * The API's global is a proxy until an SDK registers (and a new proxy after
 * `trace.disable()`): this asks it on each call (a few property reads) and
 * keeps the tracer of the provider it last saw.
 */
export class TracerWatch {
  private readonly noop: TracerProvider;
  private provider: TracerProvider | undefined;
  private tracer: Tracer | undefined;

  constructor(private readonly api: Otel) {
    this.noop = new api.ProxyTracerProvider().getDelegate();
  }

  get(): Tracer | undefined {
    const provider = this.api.trace.getTracerProvider();
    const delegate = provider instanceof this.api.ProxyTracerProvider ? provider.getDelegate() : provider;
    if (delegate === this.noop) return undefined;
    if (provider !== this.provider || this.tracer === undefined) {
      this.provider = provider;
      this.tracer = provider.getTracer(SCOPE);
    }
    return this.tracer;
  }
}
