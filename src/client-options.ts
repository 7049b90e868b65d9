import { ChannelCredentials, type ChannelOptions, credentials as grpcCredentials } from "@grpc/grpc-js";
import type { CompatServiceDefinition, NormalizedServiceDefinition } from "nice-grpc";
// The same types nice-grpc re-exports, named where the entry exports them from.
import type { CallOptions, ClientMiddleware, Status } from "nice-grpc-common";
import type { BalancerSettings } from "./balancer/balancer-config.js";
import type { HedgingOptions, RetryOptions, SdkCallOptions } from "./call/call-options.js";
import {
  checkCount,
  checkDuration,
  checkFraction,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkOneOf,
} from "./check.js";
import {
  DEFAULT_CHANNEL_OPTIONS,
  DEFAULT_FAILURE_ACCRUAL,
  DEFAULT_HEALTH_CHECK,
  DEFAULT_HEDGING,
  DEFAULT_KEEPALIVE,
  DEFAULT_MAX_METADATA_SIZE,
  DEFAULT_OUTLIER_DETECTION,
  DEFAULT_POOL_IDLE_MS,
  DEFAULT_RETRY,
  DEFAULT_RETRY_BUDGET,
  DEFAULT_STRATEGY,
  DEFAULT_TELEMETRY,
  MAX_METADATA_SIZE_LIMIT,
  MIN_CLIENT_MAX_CONNECTION_AGE_MS,
} from "./defaults.js";
import { InvalidOptionError } from "./errors.js";
import {
  type AdaptivePoolOptions,
  isAdaptive,
  isStrategy,
  type PoolOptions,
  pickFirst,
  pool,
  roundRobin,
  STRATEGY_KINDS,
  type Strategy,
} from "./strategy.js";
import { validateTarget } from "./target.js";
import { resolveTransport, type TransportName } from "./transport/transport-option.js";

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
   * (experimental, see docs/transport.md; no HTTP CONNECT proxy yet).
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
      size?: undefined;
      pick?: undefined;
      min?: undefined;
      max?: undefined;
      idleMs?: undefined;
      streamsPerConnection?: undefined;
    }
  | ({
      strategy: "pool";
      /** Connections per resolved address, with `strategy: "pool"`: a fixed pool, as `pool(size)`. */
      size: number;
      min?: undefined;
      max?: undefined;
      idleMs?: undefined;
    } & PoolOptions)
  | ({ strategy: "pool"; size?: undefined } & AdaptivePoolOptions);

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

/** @internal Everything a channel is made of, checked and with every default applied. */
export interface ResolvedChannelSettings {
  target: string;
  strategy: Strategy;
  credentials: ChannelCredentials;
  /** grpc-js channel options, without the load-balancing config. */
  channelOptions: ChannelOptions;
  /** The user's service config without a load-balancing config (parsed), or undefined. */
  serviceConfig: Record<string, unknown> | undefined;
  balancer: BalancerSettings;
  /** grpc-js `outlier_detection` config (without its child policy), or undefined. */
  outlierDetection: Record<string, unknown> | undefined;
  /** Whether calls and the pool report to OpenTelemetry. */
  telemetry: boolean;
  /** The most metadata a call may send, bytes (see {@link ChannelSettings.maxMetadataSize}). */
  maxMetadataSize: number;
  /** What carries the calls (see {@link ChannelSettings.transport}). */
  transport: TransportName;
}

/** @internal Retry settings of a client with every default applied. */
export interface ResolvedRetrySettings {
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  retryMaxAttempts: number;
  retryableStatuses: readonly Status[];
}

/** @internal The retry budget of a client with every default applied. */
export interface ResolvedRetryBudget {
  ratio: number;
  minPerSecond: number;
}

/** @internal Hedging settings with every default applied. */
export interface ResolvedHedging {
  delayMs: number | "auto";
  /** Hedges after the first attempt, at most. */
  maxHedges: number;
  budget: number;
}

/** @internal A client's options, checked, with every default applied. */
export interface ResolvedClientSettings {
  channel: ResolvedChannelSettings;
  // biome-ignore lint/suspicious/noExplicitAny: see ClientOptions.middleware
  middleware: readonly ClientMiddleware<any, any>[];
  /** Per method name, and `"*"`. */
  defaultCallOptions: Readonly<Record<string, CallOptions & SdkCallOptions>>;
  retry: ResolvedRetrySettings | false;
  retryBudget: ResolvedRetryBudget | false;
  hedging: ResolvedHedging | false;
}

/** Every key of any {@link ClientOptions} (a union: its members' keys, all of them). */
type ClientOptionName = ClientOptions extends infer O ? (O extends unknown ? keyof O : never) : never;

/** Every client option's name, compile-checked against the type: a misspelled one is refused, not ignored. */
const CLIENT_OPTION_NAMES = Object.keys({
  target: true,
  strategy: true,
  size: true,
  pick: true,
  credentials: true,
  channelOptions: true,
  keepalive: true,
  maxConnectionAge: true,
  maxConnectionAgeGrace: true,
  outlierDetection: true,
  failureAccrual: true,
  healthCheck: true,
  middleware: true,
  defaultCallOptions: true,
  retry: true,
  retryBudget: true,
  hedging: true,
  min: true,
  max: true,
  idleMs: true,
  streamsPerConnection: true,
  telemetry: true,
  maxMetadataSize: true,
  transport: true,
} satisfies Record<ClientOptionName, true>);

/**
 * @internal
 * Checks a client's options in one pass and applies every default: the one
 * place that reads `ClientOptions`.
 */
export function resolveClientOptions(options: unknown): ResolvedClientSettings {
  const o = checkObject("options", options, "expected an object with at least a target") ?? fail();
  checkKnownKeys("client options", o, CLIENT_OPTION_NAMES);
  return {
    channel: resolveChannelSettings(o.target, resolveStrategy(o), o as ChannelSettings),
    middleware: resolveMiddleware(o.middleware),
    defaultCallOptions: (checkObject(
      "defaultCallOptions",
      o.defaultCallOptions,
      "expected an object of call options by method name",
    ) ?? {}) as ResolvedClientSettings["defaultCallOptions"],
    retry: resolveRetry(o.retry),
    retryBudget: resolveRetryBudget(o.retryBudget),
    hedging: o.hedging === undefined || o.hedging === false ? false : resolveHedging("hedging", o.hedging),
  };

  function fail(): never {
    throw new InvalidOptionError("options", options, "expected an object with at least a target");
  }
}

/** @internal Checks the channel part of the options; `createBalancedChannel` and every client use it. */
export function resolveChannelSettings(
  target: unknown,
  strategy: Strategy,
  settings: ChannelSettings,
): ResolvedChannelSettings {
  const channelOptions = (checkObject(
    "channelOptions",
    settings.channelOptions,
    "expected an object of grpc-js channel options",
  ) ?? {}) as ChannelOptions;
  const { "grpc.service_config": serviceConfig, ...userOptions } = channelOptions;
  const maxAge = settings.maxConnectionAge;
  const credentials = resolveCredentials(settings.credentials);
  return {
    target: validateTarget(target),
    strategy,
    credentials,
    channelOptions: { ...DEFAULT_CHANNEL_OPTIONS, ...userOptions, ...resolveKeepalive(settings.keepalive) },
    serviceConfig: parseServiceConfig(serviceConfig),
    balancer: {
      ...balancerPool(strategy, credentials, channelOptions),
      maxConnectionAgeMs:
        maxAge === undefined ? undefined : checkDuration("maxConnectionAge", maxAge, MIN_CLIENT_MAX_CONNECTION_AGE_MS),
      maxConnectionAgeGraceMs: resolveGrace(settings.maxConnectionAgeGrace, maxAge),
      failureAccrual: resolveFailureAccrual(settings.failureAccrual),
      healthCheck: resolveHealthCheck(settings.healthCheck),
    },
    outlierDetection: resolveOutlierDetection(settings.outlierDetection),
    telemetry: resolveTelemetry(settings.telemetry),
    maxMetadataSize: checkInteger(
      "maxMetadataSize",
      settings.maxMetadataSize ?? DEFAULT_MAX_METADATA_SIZE,
      1,
      MAX_METADATA_SIZE_LIMIT,
    ),
    transport: resolveTransport(settings.transport, channelOptions),
  };
}

/** The options that, besides `strategy`, describe a pool by name. */
const POOL_FIELDS = ["size", "pick", "min", "max", "idleMs", "streamsPerConnection"] as const;

/**
 * @internal
 * The `strategy` option and the pool fields beside it (`size`, `pick`, `min`,
 * …) as one strategy. The strategy is named first: a wrong name is reported
 * as such, not as a misplaced field.
 */
export function resolveStrategy(
  options: { strategy?: unknown } & { [F in (typeof POOL_FIELDS)[number]]?: unknown },
): Strategy {
  const { strategy = DEFAULT_STRATEGY } = options;
  const given = POOL_FIELDS.filter((field) => options[field] !== undefined);
  if (isStrategy(strategy)) {
    const field = given[0];
    if (field) throw new InvalidOptionError(field, options[field], `expected no ${field} with a strategy value`);
    if (strategy.kind !== "pool") return strategy;
    // A value may come from plain JavaScript: check it as pool() would.
    const { pick, streamsPerConnection } = strategy;
    if (isAdaptive(strategy)) {
      const { min, max, idleMs } = strategy;
      return pool({ min, max, idleMs, pick, streamsPerConnection });
    }
    return pool(strategy.size, { pick, streamsPerConnection });
  }
  const name = checkOneOf(
    "strategy",
    strategy,
    STRATEGY_KINDS,
    'pickFirst(), roundRobin(), pool(), pool(n), or one of "pickFirst", "roundRobin", "pool"',
  );
  if (name === "pool") {
    const { size, pick, min, max, idleMs, streamsPerConnection } = options as AdaptivePoolOptions & { size?: unknown };
    if (size === undefined) return pool({ min, max, idleMs, pick, streamsPerConnection });
    return pool(size as number, {
      pick,
      streamsPerConnection,
      ...({ min, max, idleMs } as PoolOptions),
    });
  }
  const field = given[0];
  if (field) {
    throw new InvalidOptionError(
      field,
      options[field],
      `expected no ${field}: it is only allowed with strategy "pool"`,
    );
  }
  return name === "pickFirst" ? pickFirst() : roundRobin();
}

/**
 * How many connections the balancer keeps per address, how it picks, and how
 * it learns each server's stream limit. A fixed pool is one whose `min` and
 * `max` are equal; `roundRobin()` is `pool(1, { pick: "roundRobin" })`.
 */
function balancerPool(
  strategy: Strategy,
  credentials: ChannelCredentials,
  channelOptions: ChannelOptions,
): Omit<BalancerSettings, "maxConnectionAgeMs" | "failureAccrual" | "healthCheck"> {
  const pool = strategy.kind === "pool" ? strategy : undefined;
  const min = pool ? (pool.size ?? pool.min) : 1;
  const max = pool ? (pool.size ?? pool.max) : 1;
  const streams = pool?.streamsPerConnection;
  return {
    mode: strategy.kind,
    min,
    max,
    idleMs: pool && isAdaptive(pool) ? pool.idleMs : DEFAULT_POOL_IDLE_MS,
    pick: pool ? pool.pick : "roundRobin",
    ...(streams === undefined ? {} : { streamsPerConnection: streams }),
    // The limit matters where picks choose among connections. Only plain-text
    // connections made straight to the server can be probed (a probe cannot
    // speak TLS as the client's credentials do, nor go through its proxy).
    probeStreamLimit:
      strategy.kind !== "pickFirst" && streams === undefined && !credentials._isSecure() && !usesProxy(channelOptions),
  };
}

/** Whether grpc-js would connect through an HTTP proxy (its environment variables), as it decides. */
function usesProxy(channelOptions: ChannelOptions): boolean {
  if (channelOptions["grpc.enable_http_proxy"] === 0) return false;
  return ["grpc_proxy", "https_proxy", "http_proxy"].some((name) => process.env[name]);
}

function resolveTelemetry(value: unknown): boolean {
  if (value === undefined) return DEFAULT_TELEMETRY;
  if (typeof value !== "boolean") throw new InvalidOptionError("telemetry", value, "expected true or false");
  return value;
}

/** A recycled connection's grace, ms: only with a max connection age. */
function resolveGrace(grace: unknown, maxAge: unknown): number | undefined {
  if (grace === undefined) return undefined;
  if (maxAge === undefined) {
    throw new InvalidOptionError("maxConnectionAgeGrace", grace, "expected it only with maxConnectionAge");
  }
  return checkDuration("maxConnectionAgeGrace", grace);
}

function resolveKeepalive(keepalive: unknown): ChannelOptions {
  if (keepalive === undefined || keepalive === false) return {};
  const settings =
    keepalive === true ? {} : checkObject("keepalive", keepalive, "expected true, false or { timeMs, timeoutMs }");
  if (settings) checkKnownKeys("keepalive", settings, ["timeMs", "timeoutMs"], "keepalive.");
  return {
    "grpc.keepalive_time_ms": checkDuration("keepalive.timeMs", settings?.timeMs ?? DEFAULT_KEEPALIVE.timeMs, 1),
    "grpc.keepalive_timeout_ms": checkDuration(
      "keepalive.timeoutMs",
      settings?.timeoutMs ?? DEFAULT_KEEPALIVE.timeoutMs,
      1,
    ),
  };
}

function parseServiceConfig(serviceConfig: unknown): Record<string, unknown> | undefined {
  if (serviceConfig === undefined) return undefined;
  const option = 'channelOptions["grpc.service_config"]';
  let config: unknown;
  try {
    config = JSON.parse(String(serviceConfig));
  } catch {
    throw new InvalidOptionError(option, serviceConfig, "expected a JSON service config");
  }
  const parsed = checkObject(option, config, "expected a JSON object") ?? {};
  if ("loadBalancingConfig" in parsed || "loadBalancingPolicy" in parsed) {
    throw new InvalidOptionError(
      option,
      serviceConfig,
      "expected no load-balancing config: the strategy is the policy (use strategy, maxConnectionAge, outlierDetection)",
    );
  }
  return parsed;
}

function resolveOutlierDetection(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === false) return undefined;
  const given = value === true ? {} : checkObject("outlierDetection", value, "expected true, false or settings");
  if (given) checkKnownKeys("outlierDetection", given, Object.keys(DEFAULT_OUTLIER_DETECTION), "outlierDetection.");
  const setting = <K extends keyof OutlierDetectionSettings>(key: K): number =>
    (given?.[key] ?? DEFAULT_OUTLIER_DETECTION[key]) as number;
  // grpc-js reads these durations as { seconds, nanos } objects.
  const ms = (key: keyof OutlierDetectionSettings, min = 1) => {
    const value = checkDuration(`outlierDetection.${key}`, setting(key), min);
    return { seconds: Math.floor(value / 1000), nanos: (value % 1000) * 1_000_000 };
  };
  const percent = (key: keyof OutlierDetectionSettings) =>
    checkInteger(`outlierDetection.${key}`, setting(key), 0, 100);
  return {
    interval: ms("intervalMs"),
    base_ejection_time: ms("baseEjectionTimeMs"),
    max_ejection_time: ms("maxEjectionTimeMs"),
    max_ejection_percent: percent("maxEjectionPercent"),
    failure_percentage_ejection: {
      threshold: percent("failurePercentageThreshold"),
      enforcement_percentage: 100,
      minimum_hosts: checkInteger("outlierDetection.minimumHosts", setting("minimumHosts"), 1, 1_000_000),
      request_volume: checkInteger("outlierDetection.requestVolume", setting("requestVolume"), 1, 1_000_000),
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: see ClientOptions.middleware
function resolveMiddleware(middleware: unknown): readonly ClientMiddleware<any, any>[] {
  if (middleware === undefined) return [];
  const expected = "expected an array of nice-grpc client middleware (async function* (call, options) { … })";
  if (!Array.isArray(middleware)) throw new InvalidOptionError("middleware", middleware, expected);
  middleware.forEach((m, i) => {
    // An `async function` returns a promise, not the async iterator nice-grpc drives: every call would fail.
    if (typeof m !== "function" || m.constructor?.name === "AsyncFunction") {
      throw new InvalidOptionError(`middleware[${i}]`, m, expected);
    }
  });
  return middleware;
}

/** grpc-js channel credentials, made by its `credentials.*` functions (a plain object would fail inside grpc-js). */
function resolveCredentials(value: unknown): ChannelCredentials {
  if (value === undefined) return grpcCredentials.createInsecure();
  if (value instanceof ChannelCredentials) return value;
  throw new InvalidOptionError(
    "credentials",
    value,
    "expected ChannelCredentials from credentials.createInsecure() or credentials.createSsl(…) (of the one @grpc/grpc-js in the project)",
  );
}

function resolveRetry(retry: unknown): ResolvedRetrySettings | false {
  if (retry === false) return false;
  const given = checkObject("retry", retry, "expected retry settings or false") ?? {};
  checkKnownKeys("retry", given, Object.keys(DEFAULT_RETRY), "retry.");
  const statuses = given.retryableStatuses ?? DEFAULT_RETRY.retryableStatuses;
  if (!Array.isArray(statuses) || statuses.some((s) => !Number.isInteger(s))) {
    throw new InvalidOptionError("retry.retryableStatuses", statuses, "expected an array of status codes");
  }
  return {
    retryBaseDelayMs: checkDuration("retry.retryBaseDelayMs", given.retryBaseDelayMs ?? DEFAULT_RETRY.retryBaseDelayMs),
    retryMaxDelayMs: checkDuration("retry.retryMaxDelayMs", given.retryMaxDelayMs ?? DEFAULT_RETRY.retryMaxDelayMs),
    retryMaxAttempts: checkCount("retry.retryMaxAttempts", given.retryMaxAttempts ?? DEFAULT_RETRY.retryMaxAttempts),
    retryableStatuses: statuses,
  };
}

function resolveFailureAccrual(value: unknown): BalancerSettings["failureAccrual"] {
  if (value === false) return false;
  const given =
    value === undefined || value === true
      ? {}
      : (checkObject(
          "failureAccrual",
          value,
          "expected true, false or { consecutiveFailures, baseEjectionMs, maxEjectionMs }",
        ) ?? {});
  checkKnownKeys("failureAccrual", given, Object.keys(DEFAULT_FAILURE_ACCRUAL), "failureAccrual.");
  const d = DEFAULT_FAILURE_ACCRUAL;
  const resolved = {
    consecutiveFailures: checkInteger(
      "failureAccrual.consecutiveFailures",
      given.consecutiveFailures ?? d.consecutiveFailures,
      1,
      1_000_000,
    ),
    baseEjectionMs: checkDuration("failureAccrual.baseEjectionMs", given.baseEjectionMs ?? d.baseEjectionMs, 1),
    maxEjectionMs: checkDuration("failureAccrual.maxEjectionMs", given.maxEjectionMs ?? d.maxEjectionMs, 1),
  };
  if (resolved.maxEjectionMs < resolved.baseEjectionMs) {
    throw new InvalidOptionError(
      "failureAccrual.maxEjectionMs",
      resolved.maxEjectionMs,
      "expected at least baseEjectionMs",
    );
  }
  return resolved;
}

function resolveHealthCheck(value: unknown): BalancerSettings["healthCheck"] {
  if (value === false) return false;
  const given =
    value === undefined || value === true
      ? {}
      : (checkObject("healthCheck", value, "expected true, false or { serviceName }") ?? {});
  checkKnownKeys("healthCheck", given, Object.keys(DEFAULT_HEALTH_CHECK), "healthCheck.");
  const serviceName = given.serviceName ?? DEFAULT_HEALTH_CHECK.serviceName;
  if (typeof serviceName !== "string") {
    throw new InvalidOptionError(
      "healthCheck.serviceName",
      serviceName,
      'expected a string: a service\'s full name, or "" for the server as a whole',
    );
  }
  return { serviceName };
}

function resolveRetryBudget(value: unknown): ResolvedRetryBudget | false {
  if (value === false) return false;
  const given = checkObject("retryBudget", value, "expected { ratio, minPerSecond } or false") ?? {};
  checkKnownKeys("retryBudget", given, Object.keys(DEFAULT_RETRY_BUDGET), "retryBudget.");
  return {
    ratio: checkFraction("retryBudget.ratio", given.ratio ?? DEFAULT_RETRY_BUDGET.ratio, 1000),
    minPerSecond: checkFraction(
      "retryBudget.minPerSecond",
      given.minPerSecond ?? DEFAULT_RETRY_BUDGET.minPerSecond,
      1e6,
    ),
  };
}

/** @internal Hedging settings from the client's `hedging` or a call's `hedge` (`true` or settings), over `base`. */
export function resolveHedging(
  option: string,
  value: unknown,
  base: ResolvedHedging = DEFAULT_HEDGING,
  perCall = false,
): ResolvedHedging {
  const keys = perCall ? ["delayMs", "maxHedges"] : Object.keys(DEFAULT_HEDGING);
  const given =
    value === true ? {} : (checkObject(option, value, `expected true, false or { ${keys.join(", ")} }`) ?? {});
  if (given.maxAttempts !== undefined) {
    throw new InvalidOptionError(
      `${option}.maxAttempts`,
      given.maxAttempts,
      `expected maxHedges instead: hedges after the first attempt (maxAttempts counted the first; ${given.maxAttempts} attempts is maxHedges: ${Number(given.maxAttempts) - 1})`,
    );
  }
  if (perCall && given.budget !== undefined) {
    throw new InvalidOptionError(
      `${option}.budget`,
      given.budget,
      "expected no budget per call: the hedge budget is the client's (its hedging.budget), shared by all its calls",
    );
  }
  checkKnownKeys(option, given, keys, `${option}.`);
  const delayMs = given.delayMs ?? base.delayMs;
  return {
    delayMs: delayMs === "auto" ? "auto" : checkDuration(`${option}.delayMs`, delayMs),
    maxHedges: checkInteger(`${option}.maxHedges`, given.maxHedges ?? base.maxHedges, 1, 4),
    budget: checkFraction(`${option}.budget`, given.budget ?? base.budget, 1),
  };
}
