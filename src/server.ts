import { type ChannelOptions, ServerCredentials } from "@grpc/grpc-js";
import { type CompatServiceDefinition, createServer, type ServiceImplementation } from "nice-grpc";
import { checkDuration, checkInteger } from "./check.js";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from "./defaults.js";
import { InvalidOptionError } from "./errors.js";

/** A service to serve: a nice-grpc definition and its implementation. */
export interface ServiceRegistration<Service extends CompatServiceDefinition = CompatServiceDefinition> {
  definition: Service;
  implementation: ServiceImplementation<Service>;
}

/**
 * Binds a definition to its implementation, keeping the two types in step.
 * Every method of the service must be implemented: a missing one is named in
 * an {@link InvalidOptionError}.
 */
export function service<Service extends CompatServiceDefinition>(
  definition: Service,
  implementation: ServiceImplementation<Service>,
): ServiceRegistration {
  checkImplementation(definition, implementation);
  return { definition, implementation } as ServiceRegistration;
}

function checkImplementation(definition: CompatServiceDefinition, implementation: unknown): void {
  const tsProto = "fullName" in definition && "methods" in definition;
  const methods = Object.keys(tsProto ? (definition as { methods: object }).methods : definition);
  const given = (typeof implementation === "object" && implementation !== null ? implementation : {}) as Record<
    string,
    unknown
  >;
  const missing = methods.filter((name) => typeof given[name] !== "function");
  if (missing.length > 0) {
    const name = tsProto ? (definition as { fullName: string }).fullName : "the service";
    throw new InvalidOptionError(
      "implementation",
      implementation,
      `expected a function for every method of ${name}; missing: ${missing.join(", ")}`,
    );
  }
}

/** Largest HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS (a 32-bit value). */
const MAX_STREAMS = 2 ** 32 - 1;

/** Options of {@link startServer}. */
export interface ServerOptions {
  /**
   * `host:port` to listen on; port 0 picks a free port.
   * @default "127.0.0.1:0"
   */
  address?: string;
  /** The services to serve. */
  services: readonly ServiceRegistration[];
  /**
   * Transport security, e.g. `ServerCredentials.createSsl(...)`.
   * @default ServerCredentials.createInsecure()
   */
  credentials?: ServerCredentials;
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
   * client is gone. Independent of client keepalive, which grpc-js servers
   * always permit.
   * @default undefined (grpc-js default: no server pings)
   */
  keepalive?: { timeMs: number; timeoutMs: number };
  /**
   * Concurrent streams (calls) each client connection may have open, advertised
   * to clients in HTTP/2 SETTINGS (`grpc.max_concurrent_streams`); calls beyond
   * it wait in the client until a stream frees up. Kestrel and Google's front
   * ends allow 100, nginx and AWS ALB 128.
   * @default undefined (no limit)
   */
  maxConcurrentStreams?: number;
  /**
   * Extra grpc-js server options, applied over the ones above.
   * @default {}
   */
  channelOptions?: ChannelOptions;
}

/** Options of {@link RunningServer.shutdown}. */
export interface ShutdownOptions {
  /**
   * How long running calls may take to finish, ms, before the server closes them.
   * @default 10000
   */
  timeout?: number;
}

/** A server that is listening. */
export interface RunningServer {
  /** `host:port` as bound, with the real port. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /**
   * Stops accepting calls, lets running calls finish, and force-closes what is
   * left after `timeout` ms (those calls end with CANCELLED on the client).
   */
  shutdown(options?: ShutdownOptions): Promise<void>;
  /** Closes every connection now; running calls fail. */
  forceShutdown(): void;
}

/** Starts a gRPC server for nice-grpc service implementations. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const address = options.address ?? "127.0.0.1:0";
  const server = createServer(serverChannelOptions(options));
  for (const { definition, implementation } of options.services) {
    checkImplementation(definition, implementation);
    server.add(definition, implementation as never);
  }
  const port = await server.listen(address, options.credentials ?? ServerCredentials.createInsecure());
  const host = address.slice(0, address.lastIndexOf(":"));
  return {
    address: `${host}:${port}`,
    host,
    port,
    async shutdown({ timeout = DEFAULT_SHUTDOWN_TIMEOUT_MS } = {}) {
      checkDuration("timeout", timeout);
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, timeout);
      });
      await Promise.race([server.shutdown(), forced]);
      clearTimeout(timer);
    },
    forceShutdown: () => server.forceShutdown(),
  };
}

function serverChannelOptions(options: ServerOptions): ChannelOptions {
  const { maxConnectionAge: age, maxConnectionAgeGrace: grace } = options;
  if (age !== undefined) checkDuration("maxConnectionAge", age, 1);
  if (grace !== undefined) {
    checkDuration("maxConnectionAgeGrace", grace);
    if (age === undefined)
      throw new InvalidOptionError("maxConnectionAgeGrace", grace, "expected it only with maxConnectionAge");
  }
  const { keepalive, maxConcurrentStreams: streams } = options;
  if (streams !== undefined) checkInteger("maxConcurrentStreams", streams, 1, MAX_STREAMS);
  if (keepalive !== undefined) {
    checkDuration("keepalive.timeMs", keepalive.timeMs, 1);
    checkDuration("keepalive.timeoutMs", keepalive.timeoutMs, 1);
  }
  return {
    ...(keepalive
      ? { "grpc.keepalive_time_ms": keepalive.timeMs, "grpc.keepalive_timeout_ms": keepalive.timeoutMs }
      : {}),
    ...(age !== undefined ? { "grpc.max_connection_age_ms": age } : {}),
    ...(grace !== undefined ? { "grpc.max_connection_age_grace_ms": grace } : {}),
    ...(streams !== undefined ? { "grpc.max_concurrent_streams": streams } : {}),
    ...options.channelOptions,
  };
}
