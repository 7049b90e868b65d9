import type {
  RunningServer,
  ServerCredentials,
  ServerMiddleware,
  ServerOptions,
  ServiceRegistration,
} from "balanced-grpc";
import { startServer } from "balanced-grpc";
import { type GreeterKnobs, greeterService } from "./reference/greeter.js";
import { routeGuideService } from "./reference/route-guide.js";
import { generatedFeatures } from "./reference/route-guide-features.js";
import { unimplementedHealth } from "./unimplemented-health.js";

/**
 * How a test, benchmark or demo backend behaves. The in-process and the
 * child-process forms take the same options (the child gets them as JSON, so
 * credentials and extra services are in-process only).
 */
export interface BackendOptions {
  /** `host:port` to listen on. @default "127.0.0.1:0" */
  address?: string;
  /** The `x-backend` header of its replies. @default its host */
  name?: string;
  /** Greeter misbehaviour: slow replies, failing calls. Changeable while it runs. */
  slowMs?: number;
  failEvery?: number;
  /** Server max connection age and grace, ms. */
  maxConnectionAge?: number;
  maxConnectionAgeGrace?: number;
  /** Server keepalive pings. */
  keepalive?: ServerOptions["keepalive"];
  /** Streams each client connection may have open (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). @default no limit */
  maxConcurrentStreams?: number;
  /** Serve RouteGuide with this many generated features instead of the canonical few. */
  routeFeatures?: number;
  /** RouteChat answers each note with itself (benchmarks) instead of the notes sent earlier at its point. */
  echoChat?: boolean;
  credentials?: ServerCredentials;
  /** More services, in-process only. */
  services?: ServiceRegistration[];
  /**
   * The health service (grpc.health.v1): `true`, startServer's; `false`, none;
   * `"unimplemented"`, none as clients see it (UNIMPLEMENTED), with each
   * client connection's `Watch` calls counted in {@link Backend.watches}.
   * @default true
   */
  health?: boolean | "unimplemented";
  /** Called as each Greeter call starts, with the moment (performance.now()) and the backend's name; in-process only. */
  onCall?: (at: number, backend: string) => void;
  /**
   * Report each call that carries this request header (e.g. a unique call id)
   * to `onCallId` as its handler starts: how a test counts how often one
   * call ran on the servers.
   */
  callIdHeader?: string;
  /** Told the id and the method path of each call carrying `callIdHeader`, in-process only. */
  onCallId?: (id: string, method: string) => void;
}

/** What a backend counts: calls served and the client connections they came on. */
export interface BackendStats {
  calls: number;
  /** Distinct client connections (`context.peer`) seen. */
  connections: number;
  /** Most Greeter handlers running at once. */
  peakRunning: number;
}

/** A Greeter + RouteGuide server on one address that counts what it serves. */
export interface Backend {
  readonly name: string;
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly server: RunningServer;
  /** Greeter calls served since the last reset. */
  calls: number;
  /** Distinct client connections since the last reset. */
  readonly peers: Set<string>;
  /** Greeter handlers running now. */
  readonly running: number;
  /** Most Greeter handlers running at once since the last reset. */
  readonly peakRunning: number;
  readonly knobs: GreeterKnobs;
  /** With `health: "unimplemented"`: the health `Watch` calls per client connection (`context.peer`). */
  readonly watches: Map<string, number>;
  stats(): BackendStats;
  reset(): void;
  shutdown(timeoutMs?: number): Promise<void>;
}

/** Starts a backend in this process. */
export async function startBackend(options: BackendOptions = {}): Promise<Backend> {
  const address = options.address ?? "127.0.0.1:0";
  const knobs: GreeterKnobs = { slowMs: options.slowMs ?? 0, failEvery: options.failEvery ?? 0 };
  const name = options.name ?? address.slice(0, address.lastIndexOf(":"));
  const peers = new Set<string>();
  const counters = { calls: 0, running: 0, peakRunning: 0 };
  const { onCall } = options;
  const health = options.health === "unimplemented" ? unimplementedHealth() : undefined;
  const greeter = greeterService({
    backend: name,
    knobs,
    onCall: (context) => {
      onCall?.(performance.now(), name);
      counters.calls++;
      counters.peakRunning = Math.max(counters.peakRunning, ++counters.running);
      peers.add(context.peer);
    },
    onDone: () => void counters.running--,
  });
  const { callIdHeader, onCallId } = options;
  const countIds: ServerMiddleware[] =
    callIdHeader && onCallId
      ? [
          async function* reportCallId(call, context) {
            const id = context.metadata.get(callIdHeader);
            if (typeof id === "string") onCallId(id, call.method.path);
            return yield* call.next(call.request, context);
          },
        ]
      : [];
  const features = options.routeFeatures === undefined ? undefined : generatedFeatures(options.routeFeatures);
  const server = await startServer({
    address,
    services: [
      greeter,
      routeGuideService(features, { echoChat: options.echoChat ?? false }),
      ...(options.services ?? []),
      ...(health ? [health.registration] : []),
    ],
    ...(options.health !== undefined ? { health: options.health === true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(countIds.length > 0 ? { middleware: countIds } : {}),
    ...(options.maxConnectionAge !== undefined ? { maxConnectionAge: options.maxConnectionAge } : {}),
    ...(options.maxConnectionAgeGrace !== undefined ? { maxConnectionAgeGrace: options.maxConnectionAgeGrace } : {}),
    ...(options.keepalive ? { keepalive: options.keepalive } : {}),
    ...(options.maxConcurrentStreams !== undefined ? { maxConcurrentStreams: options.maxConcurrentStreams } : {}),
  });
  return {
    name,
    address: server.address,
    host: server.host,
    port: server.port,
    server,
    get calls() {
      return counters.calls;
    },
    set calls(value) {
      counters.calls = value;
    },
    peers,
    get running() {
      return counters.running;
    },
    get peakRunning() {
      return counters.peakRunning;
    },
    knobs,
    watches: health?.watches ?? new Map(),
    stats: () => ({ calls: counters.calls, connections: peers.size, peakRunning: counters.peakRunning }),
    reset() {
      counters.calls = 0;
      counters.peakRunning = counters.running;
      peers.clear();
    },
    shutdown: (timeout = 1_000) => server.shutdown({ timeout }),
  };
}
