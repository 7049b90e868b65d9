import { createServer } from "nice-grpc";
import { checkDuration, checkKnownKeys, checkObject } from "./check.js";
import { InvalidOptionError } from "./errors.js";
import { HealthService } from "./server/health-service.js";
import { ServerDrain } from "./server/server-drain.js";
import { handleSignals, releaseSignals, type SignalledServer } from "./server/signal-handling.js";
import { formatServerAddress } from "./server-address.js";
import { type DrainOptions, resolveDrainOptions, resolveServerOptions, type ServerOptions } from "./server-options.js";
import { serverTelemetry } from "./telemetry/server-telemetry.js";

export type { DrainOptions, ServerOptions } from "./server-options.js";
export { type ServiceRegistration, service } from "./service-registration.js";

/** Options of {@link RunningServer.shutdown}. */
export interface ShutdownOptions {
  /**
   * How long running calls may take to finish, ms, before the server closes them.
   * @default the server's `drain.timeoutMs` (10000)
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
   * Sets what the health service says: `serving` for `service` (a full name
   * such as `helloworld.Greeter`), or for every name it knows when `service`
   * is left out (`""`, the server as a whole, included). A name it does not
   * know becomes known, as with grpc-go's `SetServingStatus` (a name of the
   * application's own, for a probe that asks about one part of it). Ignored
   * once the server drains: it says NOT_SERVING until it closes. Throws if
   * the server was started with `health: false`.
   */
  setServing(serving: boolean, service?: string): void;
  /**
   * Takes the server out of rotation without failing a call: NOT_SERVING on
   * the health service at once (open `Watch` streams get it); after
   * `delayMs`, no new calls (GOAWAY on every connection: clients send new
   * calls elsewhere) and every `Watch` stream ended; calls in flight then get
   * `timeoutMs` to finish before they are cancelled. Resolves once the
   * server has closed: within `delayMs + timeoutMs` and the time to close the
   * connections. Options left out are the server's `drain` option. A drain or
   * shutdown already under way is joined (its options stay).
   */
  drain(options?: DrainOptions): Promise<void>;
  /**
   * A drain without delay: stops accepting calls, lets running calls finish,
   * and force-closes what is left after `timeout` ms (those calls end with
   * CANCELLED on the client).
   */
  shutdown(options?: ShutdownOptions): Promise<void>;
  /** Closes every connection now; running calls fail. Ends a drain under way. */
  forceShutdown(): void;
}

/**
 * Starts a gRPC server for nice-grpc service implementations. Every option is
 * checked before anything is bound: a bad or unknown one rejects with an
 * `InvalidOptionError` naming it.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const resolved = resolveServerOptions(options);
  const server = createServer(resolved.channelOptions);
  // Outermost: its duration and status are the call's as the client sees them.
  const telemetry = resolved.telemetry ? serverTelemetry() : undefined;
  // nice-grpc composes with(a).with(b) as a(b(handler)) (unlike its client,
  // which runs the last use() first): with() in array order makes the first
  // middleware the outermost.
  let services = telemetry ? server.with(telemetry) : server;
  for (const middleware of resolved.middleware) services = services.with(middleware);
  for (const { definition, implementation } of resolved.services) services.add(definition, implementation as never);
  // Beside the middleware, not behind it: probes carry no credentials, and a
  // Watch lasts as long as its connection (not a call to count).
  const health = resolved.health ? new HealthService(resolved.serviceNames) : undefined;
  if (health) {
    const { definition, implementation } = health.registration();
    server.add(definition, implementation);
  }
  const { host } = resolved.address;
  const port = await server.listen(formatServerAddress(host, resolved.address.port), resolved.credentials);
  health?.setServing(true);

  const signalled: SignalledServer = {
    drain: () => stopper.drain(resolved.drain),
    forceShutdown: () => stopper.forceShutdown(),
  };
  const stopper = new ServerDrain(server, health, () => releaseSignals(signalled));
  if (resolved.handleSignals) handleSignals(signalled);
  return {
    address: formatServerAddress(host, port),
    host,
    port,
    setServing(serving: boolean, service?: string) {
      if (typeof serving !== "boolean") throw new InvalidOptionError("serving", serving, "expected true or false");
      if (service !== undefined && typeof service !== "string") {
        throw new InvalidOptionError("service", service, 'expected a service\'s full name, or "" for the server');
      }
      if (!health) {
        throw new Error("balanced-grpc: setServing() needs the health service, and this server has health: false");
      }
      health.setServing(serving, service);
    },
    async drain(drainOptions?: DrainOptions) {
      await stopper.drain(resolveDrainOptions(drainOptions, resolved.drain, "drain options"));
    },
    async shutdown(shutdownOptions?: ShutdownOptions) {
      const given = checkObject("shutdown options", shutdownOptions, "expected { timeout }") ?? {};
      checkKnownKeys("shutdown options", given, ["timeout"]);
      const timeout = checkDuration("timeout", given.timeout ?? resolved.drain.timeoutMs);
      await stopper.drain({ delayMs: 0, timeoutMs: timeout });
    },
    forceShutdown: () => stopper.forceShutdown(),
  };
}
