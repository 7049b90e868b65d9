import { type ChannelOptions, ServerCredentials } from "@grpc/grpc-js";
import type { ServerMiddleware } from "nice-grpc-common";
import { checkDuration, checkInteger, checkKnownKeys, checkObject } from "./check.js";
import {
  DEFAULT_DRAIN,
  DEFAULT_HANDLE_SIGNALS,
  DEFAULT_HEALTH,
  DEFAULT_TELEMETRY,
  UNLIMITED_STREAMS,
} from "./defaults.js";
import { InvalidOptionError } from "./errors.js";
import { HEALTH_SERVICE_NAME } from "./health/health-proto.js";
import { parseServerAddress, type ServerAddress } from "./server-address.js";
import { checkService, type ServiceRegistration } from "./service-registration.js";

/** Options of {@link startServer}. */
export interface ServerOptions {
  /**
   * `host:port` to listen on: a host name, an IPv4 address or `[IPv6]`, and a
   * port, 0 picking a free one. A port is required: grpc-js would bind an
   * address without one to 443.
   * @default "127.0.0.1:0"
   */
  address?: string;
  /** The services to serve, each from {@link service}; a service may be given once. */
  services: readonly ServiceRegistration[];
  /**
   * Transport security, e.g. `ServerCredentials.createSsl(...)`.
   * @default ServerCredentials.createInsecure()
   */
  credentials?: ServerCredentials;
  /**
   * nice-grpc server middleware (logging, auth, `nice-grpc-opentelemetry`'s
   * server middleware), applied to every service in array order: the first is
   * outermost, it sees each call first and its result last.
   * @default []
   */
  // biome-ignore lint/suspicious/noExplicitAny: middleware of any call context extension, as nice-grpc's server.use() takes
  middleware?: readonly ServerMiddleware<any, any>[];
  /**
   * Close each connection after this many ms (±10% jitter, as grpc-js applies
   * it): the server sends GOAWAY, the client re-resolves its target and finds
   * backends added since. Unset keeps connections for ever.
   * @default undefined (no maximum age)
   */
  maxConnectionAge?: number;
  /**
   * After GOAWAY, how many ms calls already running on the old connection get
   * to finish before it is closed. Must exceed your longest call or stream:
   * calls still running then fail with INTERNAL. Needs `maxConnectionAge`.
   * @default undefined (wait for running calls however long they take)
   */
  maxConnectionAgeGrace?: number;
  /**
   * Server-side pings to each client connection, to drop connections whose
   * client is gone: both fields are required. Independent of client
   * keepalive, which grpc-js servers always permit.
   * @default undefined (grpc-js default: no server pings)
   */
  keepalive?: {
    /** Ping each client connection after this many ms without activity. */
    timeMs: number;
    /** Drop the connection when a ping is not answered within this many ms. */
    timeoutMs: number;
  };
  /**
   * Concurrent streams (calls) each client connection may have open, advertised
   * to clients in HTTP/2 SETTINGS (`grpc.max_concurrent_streams`); calls beyond
   * it wait in the client until a stream frees up. Kestrel and Google's front
   * ends allow 100, nginx and AWS ALB 128.
   * @default undefined (no limit)
   */
  maxConcurrentStreams?: number;
  /**
   * OpenTelemetry for every call, when `@opentelemetry/api` is installed and
   * an SDK is registered: gRFC A66's server metrics and a SERVER span that
   * joins the caller's trace (none when `@opentelemetry/instrumentation-grpc`
   * already made one). `false` turns it off.
   * @default true
   */
  telemetry?: boolean;
  /**
   * Serve gRPC's health service (grpc.health.v1 `Check` and `Watch`, what
   * Kubernetes' gRPC probes, grpc-health-probe and health-checking clients
   * call): `""` and each service given here SERVING once the server listens,
   * until `setServing()` or a drain says otherwise; any other name unknown
   * (NOT_FOUND). It is not behind `middleware` or `telemetry`: an auth
   * middleware would turn probes away. `false` turns it off, e.g. to serve
   * your own implementation of grpc.health.v1.
   * @default true
   */
  health?: boolean;
  /**
   * How this server drains: the options of `drain()` when it is given none,
   * of the drain that `handleSignals` starts, and `shutdown()`'s timeout.
   * @default `{ delayMs: 5000, timeoutMs: 10000 }`
   */
  drain?: DrainOptions;
  /**
   * On SIGTERM or SIGINT, drain (with the `drain` options) and then exit the
   * process with code 0; a second signal during the drain cancels the calls
   * still running and exits at once with 128 + the signal's number (143 for
   * SIGTERM, 130 for SIGINT), as if the signal had killed the process. The
   * listeners go away when the server is shut down otherwise. Off by default:
   * a library does not take over its process's signals unless asked.
   * @default false
   */
  handleSignals?: boolean;
  /**
   * Extra grpc-js server options, applied over the ones above.
   * @default `{}`
   */
  channelOptions?: ChannelOptions;
}

/**
 * How a server stops taking traffic: it says NOT_SERVING on its health service
 * at once, keeps serving for `delayMs`, then stops taking new calls (GOAWAY)
 * and gives the calls in flight `timeoutMs` to finish before it cancels them.
 */
export interface DrainOptions {
  /**
   * How long the server goes on serving while it says NOT_SERVING, ms: for
   * health-checking clients, load balancers and Kubernetes' endpoint removal
   * to take it out of rotation before it refuses new calls.
   * @default 5000
   */
  delayMs?: number;
  /**
   * Then how long the calls in flight get to finish, ms; those still running
   * after it are cancelled (CANCELLED on the client).
   * @default 10000
   */
  timeoutMs?: number;
}

/** Every key of ServerOptions: the compiler keeps this list in step with the interface. */
const OPTION_NAMES = Object.keys({
  address: true,
  services: true,
  credentials: true,
  middleware: true,
  maxConnectionAge: true,
  maxConnectionAgeGrace: true,
  keepalive: true,
  maxConcurrentStreams: true,
  telemetry: true,
  health: true,
  drain: true,
  handleSignals: true,
  channelOptions: true,
} satisfies Record<keyof ServerOptions, true>);

/** @internal The options of a server, checked, with every default applied. */
export interface ResolvedServerOptions {
  address: ServerAddress;
  services: readonly ServiceRegistration[];
  credentials: ServerCredentials;
  // biome-ignore lint/suspicious/noExplicitAny: see ServerOptions.middleware
  middleware: readonly ServerMiddleware<any, any>[];
  channelOptions: ChannelOptions;
  telemetry: boolean;
  /** The full name of each service given (`helloworld.Greeter`), in order. */
  serviceNames: readonly string[];
  health: boolean;
  drain: Required<DrainOptions>;
  handleSignals: boolean;
}

/**
 * @internal
 * Checks a server's options in one pass, before anything is bound: the one
 * place that reads `ServerOptions`. Every problem is an {@link InvalidOptionError}.
 */
export function resolveServerOptions(options: unknown): ResolvedServerOptions {
  const expected = "expected an object with at least services";
  const o = checkObject("options", options, expected) ?? fail();
  checkKnownKeys("startServer options", o, OPTION_NAMES);
  const health = resolveBoolean("health", o.health, DEFAULT_HEALTH);
  const { services, serviceNames } = resolveServices(o.services, health);
  return {
    address: parseServerAddress(o.address ?? "127.0.0.1:0"),
    services,
    serviceNames,
    credentials: resolveCredentials(o.credentials),
    middleware: resolveMiddleware(o.middleware),
    channelOptions: resolveChannelOptions(o),
    telemetry: resolveBoolean("telemetry", o.telemetry, DEFAULT_TELEMETRY),
    health,
    drain: resolveDrainOptions(o.drain, DEFAULT_DRAIN, "drain"),
    handleSignals: resolveBoolean("handleSignals", o.handleSignals, DEFAULT_HANDLE_SIGNALS),
  };

  function fail(): never {
    throw new InvalidOptionError("options", options, expected);
  }
}

function resolveBoolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new InvalidOptionError(option, value, "expected true or false");
  return value;
}

/**
 * @internal
 * Drain options over `fallback` (the defaults, or the server's own); `option`
 * names them in errors (`drain` in startServer's options, `drain options` for
 * `server.drain()`).
 */
export function resolveDrainOptions(
  value: unknown,
  fallback: Required<DrainOptions>,
  option: string,
): Required<DrainOptions> {
  const given = checkObject(option, value, "expected { delayMs, timeoutMs }");
  if (given === undefined) return fallback;
  const prefix = option === "drain" ? "drain." : "";
  checkKnownKeys(option, given, ["delayMs", "timeoutMs"], prefix);
  return {
    delayMs: checkDuration(`${prefix}delayMs`, given.delayMs ?? fallback.delayMs),
    timeoutMs: checkDuration(`${prefix}timeoutMs`, given.timeoutMs ?? fallback.timeoutMs),
  };
}

function resolveServices(
  services: unknown,
  health: boolean,
): { services: readonly ServiceRegistration[]; serviceNames: string[] } {
  if (!Array.isArray(services)) {
    throw new InvalidOptionError("services", services, "expected an array of service(Definition, implementation)");
  }
  const servedBy = new Map<string, number>();
  const serviceNames: string[] = [];
  services.forEach((registration: unknown, i) => {
    const entry = checkObject(`services[${i}]`, registration ?? null, "expected service(Definition, implementation)");
    const { name, paths } = checkService(entry?.definition, entry?.implementation, `services[${i}].`);
    // The built-in health service serves that name; grpc-js would fail at listen() too.
    if (health && name === HEALTH_SERVICE_NAME) {
      throw new InvalidOptionError(
        `services[${i}]`,
        registration,
        `expected no ${HEALTH_SERVICE_NAME} while the built-in health service is on; set health: false to serve your own`,
      );
    }
    // grpc-js would throw "Method handler … already provided" at listen().
    const twice = paths.find((path) => servedBy.has(path));
    if (twice !== undefined) {
      throw new InvalidOptionError(
        `services[${i}]`,
        registration,
        `expected each service once; ${name} is already served by services[${servedBy.get(twice)}]`,
      );
    }
    for (const path of paths) servedBy.set(path, i);
    serviceNames.push(name);
  });
  return { services, serviceNames };
}

function resolveCredentials(credentials: unknown): ServerCredentials {
  if (credentials === undefined) return ServerCredentials.createInsecure();
  // Credentials from another copy of grpc-js fail this check too; grpc-js would
  // fail later with a TypeError from deep inside bindAsync.
  if (!(credentials instanceof ServerCredentials)) {
    throw new InvalidOptionError(
      "credentials",
      credentials,
      "expected ServerCredentials (from balanced-grpc or @grpc/grpc-js), e.g. ServerCredentials.createSsl(…)",
    );
  }
  return credentials;
}

// biome-ignore lint/suspicious/noExplicitAny: see ServerOptions.middleware
function resolveMiddleware(middleware: unknown): readonly ServerMiddleware<any, any>[] {
  if (middleware === undefined) return [];
  const expected = "expected an array of nice-grpc server middleware (async function* (call, context) { … })";
  if (!Array.isArray(middleware)) throw new InvalidOptionError("middleware", middleware, expected);
  middleware.forEach((m: unknown, i) => {
    // An async function returns a promise, not the generator nice-grpc iterates:
    // every call would fail with "iterator.next is not a function".
    const asyncFunction = typeof m === "function" && m.constructor?.name === "AsyncFunction";
    if (typeof m !== "function" || asyncFunction) throw new InvalidOptionError(`middleware[${i}]`, m, expected);
  });
  return middleware;
}

function resolveChannelOptions(o: Record<string, unknown>): ChannelOptions {
  const { maxConnectionAge: age, maxConnectionAgeGrace: grace, maxConcurrentStreams: streams } = o;
  if (streams !== undefined) checkInteger("maxConcurrentStreams", streams, 1, UNLIMITED_STREAMS);
  if (age !== undefined) checkDuration("maxConnectionAge", age, 1);
  if (grace !== undefined) {
    checkDuration("maxConnectionAgeGrace", grace);
    if (age === undefined)
      throw new InvalidOptionError("maxConnectionAgeGrace", grace, "expected it only with maxConnectionAge");
  }
  const keepalive = checkObject("keepalive", o.keepalive, "expected { timeMs, timeoutMs }");
  if (keepalive !== undefined) {
    checkKnownKeys("keepalive", keepalive, ["timeMs", "timeoutMs"], "keepalive.");
    checkDuration("keepalive.timeMs", keepalive.timeMs, 1);
    checkDuration("keepalive.timeoutMs", keepalive.timeoutMs, 1);
  }
  const channelOptions = checkObject(
    "channelOptions",
    o.channelOptions,
    "expected an object of grpc-js server options",
  );
  return {
    ...(keepalive
      ? { "grpc.keepalive_time_ms": keepalive.timeMs, "grpc.keepalive_timeout_ms": keepalive.timeoutMs }
      : {}),
    ...(age !== undefined ? { "grpc.max_connection_age_ms": age } : {}),
    ...(grace !== undefined ? { "grpc.max_connection_age_grace_ms": grace } : {}),
    ...(streams !== undefined ? { "grpc.max_concurrent_streams": streams } : {}),
    ...channelOptions,
  } as ChannelOptions;
}
