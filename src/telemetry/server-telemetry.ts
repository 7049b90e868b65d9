import type { Context, Span, TextMapGetter } from "@opentelemetry/api";
import type { CallContext, Metadata, ServerMiddleware, ServerMiddlewareCall } from "nice-grpc-common";
import { ServerError, Status } from "nice-grpc-common";
import { watchServerInstruments } from "./instruments.js";
import { methodName } from "./method-telemetry.js";
import { otelApi } from "./otel-api.js";
import { statusName } from "./status-code.js";
import { TracerWatch } from "./tracer-watch.js";

/** Reads the propagator's fields (`traceparent`, …) from a call's nice-grpc metadata. */
const METADATA_GETTER: TextMapGetter<Metadata> = {
  keys: (metadata) => Array.from(metadata, ([key]) => key),
  get: (metadata, key) => {
    const value = metadata.get(key);
    return typeof value === "string" ? value : undefined; // text fields only: binary ones are no trace context
  },
};

const SPAN_KIND_SERVER = 1;
const STATUS_ERROR = 2;

/**
 * @internal
 * The server middleware `startServer` puts outermost when telemetry is on and
 * `@opentelemetry/api` is installed (else undefined): gRFC A66's server
 * instruments (`grpc.server.call.started`, `grpc.server.call.duration`), and
 * a SERVER span that continues the caller's trace (extracted from the call's
 * metadata with the global propagator), active while the handler runs.
 *
 * The span is made only when none is active yet: with
 * `@opentelemetry/instrumentation-grpc` registered, grpc-js's server already
 * runs the handler in the instrumentation's span, and a second span for the
 * same call would only double the trace. Per-call cost with no SDK
 * registered: two provider checks, nothing allocated.
 */
export function serverTelemetry(): ServerMiddleware | undefined {
  const api = otelApi();
  if (!api) return undefined;
  const instruments = watchServerInstruments(api);
  const tracers = new TracerWatch(api);

  return async function* telemetry<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ) {
    const metrics = instruments.get();
    const active = api.context.active();
    const tracer = tracers.get();
    // A span already active is instrumentation-grpc's for this call: no second one.
    const spanned = tracer !== undefined && api.trace.getSpan(active) === undefined;
    if (!metrics && !spanned) return yield* call.next(call.request, context);

    const path = call.method.path;
    const method = methodName(path);
    const startedAt = performance.now();
    metrics?.callStarted.add(1, { "grpc.method": method });
    let span: Span | undefined;
    let handlerContext: Context = active;
    if (spanned) {
      const parent = api.propagation.extract(active, context.metadata, METADATA_GETTER);
      const name = path.replace(/^\//, "");
      const slash = name.lastIndexOf("/");
      span = tracer!.startSpan(
        name,
        {
          kind: SPAN_KIND_SERVER,
          attributes: {
            "rpc.system": "grpc",
            "rpc.service": name.slice(0, slash),
            "rpc.method": name.slice(slash + 1),
          },
        },
        parent,
      );
      handlerContext = api.trace.setSpan(parent, span);
    }
    let code: number = Status.OK;
    let message: string | undefined;
    // Each step of the handler runs in the span's context, so its own spans are children.
    const inner = call.next(call.request, context);
    const step = (value?: unknown) => api.context.with(handlerContext, () => inner.next(value as never));
    try {
      let result = await step();
      while (!result.done) {
        const sent: unknown = yield result.value;
        result = await step(sent);
      }
      return result.value;
    } catch (error) {
      code = error instanceof ServerError ? error.code : isAbort(error) ? Status.CANCELLED : Status.UNKNOWN;
      message = error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      await inner.return?.(undefined as never);
      metrics?.callDuration.record((performance.now() - startedAt) / 1000, {
        "grpc.method": method,
        "grpc.status": statusName(code),
      });
      if (span) {
        span.setAttribute("rpc.grpc.status_code", code);
        if (code !== Status.OK) span.setStatus({ code: STATUS_ERROR, message });
        span.end();
      }
    }
  } as ServerMiddleware;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}
