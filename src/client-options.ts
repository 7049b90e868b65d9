import type { ChannelCredentials, ChannelOptions } from "@grpc/grpc-js";
import type { CompatServiceDefinition, NormalizedServiceDefinition } from "nice-grpc";
// The same types nice-grpc re-exports, named where the entry exports them from.
import type { CallOptions, ClientMiddleware } from "nice-grpc-common";
import type { HedgingOptions, RetryOptions, SdkCallOptions } from "./call/call-options.js";
import type { AdaptivePoolOptions, PoolOptions, Strategy } from "./strategy.js";
import type { TransportName } from "./transport/transport-option.js";

/** The channel's options: the third argument of `createBalancedChannel`, and part of every client's options. */
export interface ChannelSettings {
  /**
   * Transport security: grpc-js `ChannelCredentials`, e.g.
   * `credentials.createSsl(ca, key, cert)` for TLS or mutual TLS.
   * @default credentials.createInsecure()
   */
  credentials?: ChannelCredentials;
  /**
   * grpc-js channel options, merged over the SDK's defaults. A
   * `grpc.service_config` may set method configs but no load-balancing
   * policy: the strategy is the policy.
   * @default `{}`
   */
  channelOptions?: ChannelOptions;
  /**
   * Ping each connection while calls are open, and drop it when a ping is not
   * answered in time: a hung server (stopped process, dead network path) is
   * then left within `timeMs + timeoutMs` instead of stalling calls until
   * their deadlines. `true` means `{ timeMs: 1000, timeoutMs: 1000 }`.
   *
   * Off by default because servers limit how often clients may ping: grpc-go
   * and gRPC C++ allow one ping per 5 minutes unless configured otherwise, and
   * answer more with GOAWAY "too_many_pings". Enable it only against servers
   * that permit it; grpc-js servers, including `startServer`, do.
   * @default false
   */
  keepalive?: boolean | KeepaliveSettings;
  /**
   * Replace each connection after this many ms (±10% jitter): a new
   * connection is opened and ready before the old one stops taking calls; the
   * old one closes once its calls are done; one connection of the client
   * recycles at a time. Behind an L4 load balancer this moves the client onto
   * backends added since, with no help from the servers (the servers' own
   * max connection age does the same from their side). At least 1000.
   * @default undefined (connections are kept)
   */
  maxConnectionAge?: number;
  /**
   * How long calls still running on a connection past its `maxConnectionAge`
   * may take, ms; then they are cancelled (CANCELLED) and it closes. As a
   * server's grace, it must exceed your longest call or stream. Needs
   * `maxConnectionAge`. Without it, a long stream keeps its old connection
   * open as long as it runs (and the address's next recycle waits for it:
   * at most one old connection per address at a time).
   * @default undefined (calls run as long as they take)
   */
  maxConnectionAgeGrace?: number;
  /**
   * Eject a backend whose calls fail, for a while, and bring it back after:
   * grpc's outlier detection, with defaults for a handful of backends. `true`
   * uses every default of {@link OutlierDetectionSettings}. Every call status
   * other than OK counts as a failure, including calls the client cancels.
   * @default false
   */
  outlierDetection?: boolean | OutlierDetectionSettings;
  /**
   * Take a backend whose calls keep failing out of the picks for a short,
   * growing time, then probe it with one call (Finagle's failure accrual):
   * a backend that answers UNAVAILABLE at once would otherwise draw calls as
   * the fastest, least busy one. Failures that the server causes count
   * (UNAVAILABLE, INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED, UNIMPLEMENTED,
   * DATA_LOSS); the caller's (CANCELLED, DEADLINE_EXCEEDED) and application
   * answers (NOT_FOUND, …) do not. `true` uses every default of
   * {@link FailureAccrualSettings}. Recent failures also weigh in p2c's cost
   * (a backend failing half its calls costs several times more). `false`
   * turns both off: failures change no pick. Lighter than
   * `outlierDetection`, which judges backends by their failure rate every interval.
   * @default true
   */
  failureAccrual?: boolean | FailureAccrualSettings;
  /**
   * Follow each server's health (gRPC's health service, grpc.health.v1, as
   * gRFC A17 has clients do): every connection keeps one `Watch` stream open
   * to its server. A connection whose server says NOT_SERVING (or
   * SERVICE_UNKNOWN) takes no new calls, and takes them again the moment it
   * says SERVING; calls already on it finish. `pickFirst()` moves to the next
   * address whose server serves. A server without the health service
   * (UNIMPLEMENTED) counts as healthy and is not asked again on that
   * connection. When no server serves, calls fail with UNAVAILABLE naming
   * health as the reason (calls with `waitForReady` wait). The Watch takes one
   * of each connection's streams; `false` turns it off. See
   * docs/health-and-drain.md.
   * @default true
   */
  healthCheck?: boolean | HealthCheckSettings;
  /**
   * OpenTelemetry traces and metrics of the calls and the pool, through the
   * global tracer and meter providers, when `@opentelemetry/api` is
   * installed (an optional peer dependency) and an SDK is registered: a
   * CLIENT span per call with a child per attempt, the trace context sent to
   * the server, gRFC A66's metrics and the pool's under `balanced_grpc.`.
   * Nothing without an SDK; `false` turns it off. See the README's "Observability".
   * @default true
   */
  telemetry?: boolean;
  /**
   * The most metadata a call may send, bytes, counted as HTTP/2 counts a
   * header list (each entry's name and value, plus 32; binary values as
   * base64): a call with more fails at once, before anything is sent, with an
   * `InvalidOptionError` naming the size and this limit, and is not retried.
   * Servers refuse large header lists in their own ways (grpc-js servers
   * reset the stream past about 64 KiB, grpc-java and gRPC C++ answer
   * RESOURCE_EXHAUSTED past 8 KiB by default, grpc-go accepts up to 16 MiB);
   * raise it for servers that accept more. Checked for the calls of SDK
   * clients; calls of other clients made on a `BalancedChannel` are not.
   * @default 65536
   */
  maxMetadataSize?: number;
  /**
   * What carries the calls: `"grpc-js"`, grpc-js's channel; `"http2"`, the
   * SDK's own HTTP/2 transport under the same balancer and engine
   * (experimental, see docs/transport.md).
   * @default "grpc-js"
   */
  transport?: TransportName;
}

/** Failure accrual; see {@link ChannelSettings.failureAccrual}. */
export interface FailureAccrualSettings {
  /**
   * Failures in a row that take a backend out.
   * @default 5
   */
  consecutiveFailures?: number;
  /**
   * How long a backend is out the first time, ms; each time in a row doubles it (±10%).
   * @default 1000
   */
  baseEjectionMs?: number;
  /**
   * Longest time out, ms.
   * @default 30000
   */
  maxEjectionMs?: number;
}

/** Client-side health checking; see {@link ChannelSettings.healthCheck}. */
export interface HealthCheckSettings {
  /**
   * The service whose health each connection watches: `""` is the server as
   * a whole (what Kubernetes' probes ask by default); a full service name
   * (`"shop.orders.v1.Orders"`) follows that service's status, which
   * `startServer`'s `setServing(serving, name)` sets on its own.
   * @default ""
   */
  serviceName?: string;
}

/** The client's retry budget; see `ClientOptions.retryBudget`. */
export interface RetryBudgetSettings {
  /**
   * Retries may add this fraction of the client's calls (over the last 10 s).
   * @default 0.2
   */
  ratio?: number;
  /**
   * And this many retries per second besides, so a client making few calls still retries.
   * @default 10
   */
  minPerSecond?: number;
}

/** Client keepalive pings; see {@link ChannelSettings.keepalive}. */
export interface KeepaliveSettings {
  /**
   * Time between pings, ms.
   * @default 1000
   */
  timeMs?: number;
  /**
   * Time to wait for a ping's answer before dropping the connection, ms.
   * @default 1000
   */
  timeoutMs?: number;
}

/**
 * Outlier detection; see {@link ChannelSettings.outlierDetection}. Every
 * `intervalMs`, each backend (resolved address) that served at least
 * `requestVolume` calls in the interval, and failed more than
 * `failurePercentageThreshold` percent of them, is ejected: it gets no calls
 * for `baseEjectionTimeMs` times the number of consecutive ejections, at most
 * `maxEjectionTimeMs`. Checks run only while `minimumHosts` backends have that
 * volume, and eject only while fewer than `maxEjectionPercent` percent of the
 * backends are ejected.
 */
export interface OutlierDetectionSettings {
  /**
   * How often backends are checked, ms.
   * @default 1000
   */
  intervalMs?: number;
  /**
   * How long a first ejection lasts, ms.
   * @default 5000
   */
  baseEjectionTimeMs?: number;
  /**
   * Longest ejection, ms.
   * @default 60000
   */
  maxEjectionTimeMs?: number;
  /**
   * Eject only while fewer than this percentage of backends are ejected.
   * @default 50
   */
  maxEjectionPercent?: number;
  /**
   * Percentage of failed calls above which a backend is ejected.
   * @default 30
   */
  failurePercentageThreshold?: number;
  /**
   * Backends that must have `requestVolume` calls in an interval for the check to run.
   * @default 2
   */
  minimumHosts?: number;
  /**
   * Calls a backend must have served in the interval to be judged.
   * @default 20
   */
  requestVolume?: number;
}

/**
 * The strategy part of a client's options: a strategy value, or its name;
 * `"pool"` with `size` is a fixed pool, without it the pool sizes itself and
 * takes the settings of `pool({ ... })`.
 */
export type StrategyOptions =
  | {
      /**
       * How calls spread over servers: `pickFirst()`, `roundRobin()`, `pool()`,
       * `pool(n)`, or a name (`"pool"` with `size` is `pool(size)`, without it `pool()`).
       * @default pickFirst()
       */
      strategy?: Strategy | "pickFirst" | "roundRobin";
      /** Only with `strategy: "pool"`. */
      size?: undefined;
      /** Only with `strategy: "pool"`. */
      pick?: undefined;
      /** Only with `strategy: "pool"`. */
      min?: undefined;
      /** Only with `strategy: "pool"`. */
      max?: undefined;
      /** Only with `strategy: "pool"`. */
      idleMs?: undefined;
      /** Only with `strategy: "pool"`. */
      streamsPerConnection?: undefined;
    }
  | ({
      /** A pool of `size` connections per resolved address. */
      strategy: "pool";
      /** Connections per resolved address, with `strategy: "pool"`: a fixed pool, as `pool(size)`. */
      size: number;
      /** Only for an adaptive pool (no `size`). */
      min?: undefined;
      /** Only for an adaptive pool (no `size`). */
      max?: undefined;
      /** Only for an adaptive pool (no `size`). */
      idleMs?: undefined;
    } & PoolOptions)
  | ({
      /** An adaptive pool, as `pool()`: from `min` to `max` connections per resolved address. */
      strategy: "pool";
      /** None: the pool sizes itself. */
      size?: undefined;
    } & AdaptivePoolOptions);

/** Retry settings for a whole client; the same names as the per-call retry options. */
export type RetrySettings = Pick<
  RetryOptions,
  "retryBaseDelayMs" | "retryMaxDelayMs" | "retryMaxAttempts" | "retryableStatuses"
>;

/**
 * Call options applied to every call unless the call sets its own: `"*"` for
 * every method, or a method's name (typed by the service) for that method.
 */
export type SdkDefaultCallOptions<Service extends CompatServiceDefinition> = {
  [Method in keyof NormalizedServiceDefinition<Service> | "*"]?: CallOptions & SdkCallOptions;
};

/** Options of every `create<Service>Client` factory and of `createServiceClient`. */
export type ClientOptions<Service extends CompatServiceDefinition = CompatServiceDefinition> = ChannelSettings &
  StrategyOptions & {
    /**
     * Where the servers are: `host:port`, `dns:///host:port`,
     * `dns://dns-server:53/host:port`, `ipv4:a:p,b:p`, `ipv6:[a]:p`, `unix:path`.
     * Required; checked when the client is made.
     */
    target: string;
    /**
     * Your nice-grpc client middleware, outermost first: `[a, b]` runs `a`,
     * which calls `b`, which calls the SDK's call engine (deadline, retry,
     * the connection). Each runs once per call and sees the call's final
     * outcome, after any retries; streaming calls pass through them too.
     * @default []
     */
    // biome-ignore lint/suspicious/noExplicitAny: middleware of any call options composes here, as in nice-grpc
    middleware?: readonly ClientMiddleware<any, any>[];
    /**
     * Call options for every call (`"*"`) or per method, e.g.
     * `{ "*": { deadline: 2_000 }, sayHello: { retryMaxAttempts: 5 } }`.
     * A call's own options win over these.
     * @default `{}`
     */
    defaultCallOptions?: SdkDefaultCallOptions<Service>;
    /**
     * Retry settings for the client, or `false` for no retries at all
     * (then no call retries, whatever its options). Methods marked
     * `idempotency_level = NO_SIDE_EFFECTS` or `IDEMPOTENT` retry by default;
     * others only with `retry: true` on the call.
     * @default `{ retryBaseDelayMs: 50, retryMaxDelayMs: 2000, retryMaxAttempts: 3 }`
     */
    retry?: RetrySettings | false;
    /**
     * At most how many retries the client makes, over all its calls, or
     * `false` for no limit: retries may add `ratio` of the calls of the last
     * 10 s plus `minPerSecond` (Finagle's retry budget). In an outage the
     * servers then see about the calls plus the budget, not every call 4
     * times. A retry the budget refuses fails with its attempt's error.
     * Refused-stream replays (never processed) are not retries and do not count.
     * @default `{ ratio: 0.2, minPerSecond: 10 }`
     */
    retryBudget?: RetryBudgetSettings | false;
    /**
     * Hedged calls for the client's idempotent methods (`NO_SIDE_EFFECTS` or
     * `IDEMPOTENT`; others when a call says `hedge: true`): a call still
     * unanswered after the delay sends a second attempt to another backend,
     * the first answer wins. `true` uses every default of {@link HedgingOptions}.
     * Unary calls hedge; streams do not.
     * @default false
     */
    hedging?: boolean | HedgingOptions;
  };
