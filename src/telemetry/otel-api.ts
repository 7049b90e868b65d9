import { createRequire } from "node:module";
import type * as OtelApi from "@opentelemetry/api";

/** @internal `@opentelemetry/api`, as the telemetry files use it. */
export type Otel = typeof OtelApi;

let loaded: Otel | null | undefined;

/**
 * @internal
 * `@opentelemetry/api` if the application has it installed, else undefined:
 * it is an optional peer dependency, so the SDK must load and run without it.
 * The one place that loads it, once, synchronously (a client is made
 * synchronously): `require` of the package, which ships CommonJS, and which
 * Node 20.19+ could also `require()` as ESM. Resolved from this package, as an
 * `import` would be, so it is the application's one copy: the API keeps its
 * global registrations (tracer and meter providers, propagator) on
 * `globalThis`, shared by every copy of a compatible version anyway.
 */
export function otelApi(): Otel | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)("@opentelemetry/api") as Otel;
    } catch {
      loaded = null; // not installed: telemetry is off, and nothing else changes
    }
  }
  return loaded ?? undefined;
}
