import { createServer } from "nice-grpc";
import { checkDuration, checkKnownKeys, checkObject } from "./check.js";
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from "./defaults.js";
import { formatServerAddress } from "./server-address.js";
import { resolveServerOptions, type ServerOptions } from "./server-options.js";
import { serverTelemetry } from "./telemetry/server-telemetry.js";

export type { ServerOptions } from "./server-options.js";
export { type ServiceRegistration, service } from "./service-registration.js";

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
  /**
   * `host:port` as bound, with the real port: a target clients can use
   * (`[::1]:50051` for an IPv6 host).
   */
  readonly address: string;
  /** The host as given in `address`, without IPv6 brackets. */
  readonly host: string;
  /** The port bound (the free port picked when `address` asked for port 0). */
  readonly port: number;
  /**
   * Stops accepting calls, lets running calls finish, and force-closes what is
   * left after `timeout` ms (those calls end with CANCELLED on the client).
   */
  shutdown(options?: ShutdownOptions): Promise<void>;
  /** Closes every connection now; running calls fail. */
  forceShutdown(): void;
}

/**
 * Starts a gRPC server for nice-grpc service implementations. Every option is
 * checked before anything is bound: a bad or unknown one rejects with an
 * `InvalidOptionError` naming it.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const resolved = resolveServerOptions(options);
  let server = createServer(resolved.channelOptions);
  // Outermost: its duration and status are the call's as the client sees them.
  const telemetry = resolved.telemetry ? serverTelemetry() : undefined;
  if (telemetry) server = server.use(telemetry);
  // nice-grpc composes server.use(a).use(b) as a(b(handler)) (unlike its
  // client, which runs the last use() first): use() in array order makes the
  // first middleware the outermost.
  for (const middleware of resolved.middleware) server = server.use(middleware);
  for (const { definition, implementation } of resolved.services) server.add(definition, implementation as never);
  const { host } = resolved.address;
  const port = await server.listen(formatServerAddress(host, resolved.address.port), resolved.credentials);
  return {
    address: formatServerAddress(host, port),
    host,
    port,
    async shutdown(shutdownOptions?: ShutdownOptions) {
      const given = checkObject("shutdown options", shutdownOptions, "expected { timeout }") ?? {};
      checkKnownKeys("shutdown options", given, ["timeout"]);
      const timeout = checkDuration("timeout", given.timeout ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
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
