/*
 * Every default the SDK applies, in one place. The options' JSDoc states
 * these values with `@default`; a test checks that each one matches.
 *
 * Internal to the library (not exported from its entry).
 */
import type { ChannelOptions } from "@grpc/grpc-js";
import { Status } from "nice-grpc-common";

/**
 * The transport of a client that names none: grpc-js's own channel, until the
 * SDK's HTTP/2 transport meets its gates (docs/transport.md).
 */
export const DEFAULT_TRANSPORT = "grpc-js" as const;

/** Strategy of a client that names none: `pickFirst()`. */
export const DEFAULT_STRATEGY = "pickFirst" as const;

/**
 * Pick of `pool(n)` when none is given. `npm run bench:pick`: equal to round
 * robin when backends are alike, far better when one is slow.
 */
export const DEFAULT_PICK = "p2c" as const;

/** Largest `pool(n)`: a guard against typos such as `pool(10000)`, not a limit of grpc-js. */
export const MAX_POOL_SIZE = 1024;

/**
 * Fewest connections an adaptive `pool()` keeps per resolved address: one, as
 * `roundRobin()` does; more open only when the calls need them.
 */
export const DEFAULT_POOL_MIN = 1;

/**
 * Most connections an adaptive `pool()` opens per resolved address: 16 × a
 * server limit of 100 is 1,600 calls in flight to one address before calls
 * wait, and a runaway (a burst of hung calls) costs at most 16 sockets per
 * backend.
 */
export const DEFAULT_POOL_MAX = 16;

/**
 * How long an adaptive `pool()`'s calls to an address must have fitted in one
 * connection fewer before it closes one: 30 s, so a load that comes and goes
 * (a batch every few seconds) keeps its connections; a new one costs a
 * handshake, a kept one almost nothing.
 */
export const DEFAULT_POOL_IDLE_MS = 30_000;

/**
 * The stream limit assumed per connection when neither the server nor the
 * `streamsPerConnection` option tells it: 100, what Kestrel and Google's front
 * ends advertise and the lowest common real limit (nginx and AWS ALB: 128).
 */
export const ASSUMED_STREAM_LIMIT = 100;

/** HTTP/2's initial SETTINGS_MAX_CONCURRENT_STREAMS: a server that sets none allows this many (2^32 − 1). */
export const UNLIMITED_STREAMS = 2 ** 32 - 1;

/**
 * How long the balancer waits for a server's SETTINGS on its probe
 * connection before it assumes {@link ASSUMED_STREAM_LIMIT}. A server
 * answers within a round trip; a silent one is not worth waiting for.
 */
export const STREAM_LIMIT_PROBE_TIMEOUT_MS = 5_000;

/** grpc-js channel options the SDK sets on every channel; `channelOptions` is merged over them. */
export const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  // grpc-js re-resolves a DNS name only when a connection closes, and by
  // default at most every 30 s: with servers at max connection age A, a new
  // backend would be found ~30 s late. 1 s finds it within A + 1 s. The cost:
  // at most one lookup (A and AAAA queries) per client per second, and only
  // after a connection closed. See the README's "Discovery" for the load.
  "grpc.dns_min_time_between_resolutions_ms": 1_000,
  // A service config published in DNS TXT records would take precedence over
  // the strategy's load-balancing config: the client, not DNS, chooses how
  // calls spread. It also saves a query per resolution.
  "grpc.service_config_disable_resolution": 1,
  // Each client owns its connections: with grpc-js's global subchannel pool,
  // two clients to one target would share them, and neither could recycle
  // or count its own.
  "grpc.use_local_subchannel_pool": 1,
  // The SDK retries calls (per the proto's idempotency) and sends refused
  // streams again itself, so grpc-js's own retry layer would only add a
  // second retry budget and buffer every message a second time. Set it to 1
  // to use retry policies from a service config instead.
  "grpc.enable_retries": 0,
  // channelz (grpc-js's debugging registry) tracks every call; off unless
  // asked for (`channelOptions: { "grpc.enable_channelz": 1 }`).
  "grpc.enable_channelz": 0,
};

/**
 * Telemetry of clients and servers: on, since it costs nothing measurable
 * until the application registers an OpenTelemetry SDK, and then it is what
 * the application asked for (see `npm run bench:telemetry`).
 */
export const DEFAULT_TELEMETRY = true;

/** How long `RunningServer.shutdown()` lets running calls finish before forcing. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * Retry settings of every client unless its `retry` option says otherwise.
 * nice-grpc's retry middleware waits 1 s before its first retry, which suits
 * batch jobs, not an RPC path: 50 ms, doubling (with jitter) up to 2 s, at
 * most 3 retries after the first attempt. Which calls retry follows the proto
 * (idempotency_level); which codes retry is nice-grpc's choice.
 */
export const DEFAULT_RETRY = {
  retryBaseDelayMs: 50,
  retryMaxDelayMs: 2_000,
  retryMaxAttempts: 3,
  retryableStatuses: [Status.UNKNOWN, Status.INTERNAL, Status.UNAVAILABLE, Status.CANCELLED] as readonly Status[],
} as const;

/**
 * Refused streams (never processed by the server) are sent again for as long
 * as `maxReplayMs` after the call was first refused (within its deadline):
 * the first `immediate` replays at once, then after `firstDelayMs`, doubling up
 * to `maxDelayMs`, so a call outlasts a proxy closing every connection after a
 * few requests while they reconnect, and a server that refuses every stream
 * is asked about once a second, not hammered. Only while what the call sent
 * fits in `maxBufferedBytes`, and what all of a client's calls keep fits in
 * `maxChannelBufferedBytes` (grpc-js's own retry buffer: 1 MiB per call, 16
 * MiB per channel).
 */
export const REFUSED_STREAM_REPLAY = {
  maxReplayMs: 30_000,
  immediate: 3,
  firstDelayMs: 5,
  maxDelayMs: 1_000,
  maxBufferedBytes: 1024 * 1024,
  maxChannelBufferedBytes: 16 * 1024 * 1024,
} as const;

/**
 * The most metadata a call may send, bytes, as HTTP/2 counts a header list:
 * 64 KiB, about what a grpc-js (Node) server accepts before it resets the
 * stream; grpc-java and gRPC C++ servers accept 8 KiB by default, grpc-go 16 MiB.
 */
export const DEFAULT_MAX_METADATA_SIZE = 65_536;

/** The largest `maxMetadataSize` accepted: grpc-go's own limit (16 MiB). */
export const MAX_METADATA_SIZE_LIMIT = 16 * 1024 * 1024;

/** Client keepalive with `keepalive: true`: a hung server is left within ~2 s. */
export const DEFAULT_KEEPALIVE = { timeMs: 1_000, timeoutMs: 1_000 } as const;

/**
 * Client-side max connection age: the smallest age accepted, ms. Each recycle
 * costs a TCP (and TLS) handshake; below a second that is churn, not balance.
 */
export const MIN_CLIENT_MAX_CONNECTION_AGE_MS = 1_000;

/** ± jitter applied to each connection's max age, as grpc servers do: recycles do not line up. */
export const MAX_CONNECTION_AGE_JITTER = 0.1;

/**
 * Outlier detection with `outlierDetection: true`. grpc's own defaults need
 * 5 backends with 50 calls each per 10 s before they eject anything, and eject
 * for 30 s; these work for a handful of backends: every second, a backend
 * whose calls failed more than 30% of at least 20 is ejected for 5 s (10 s the
 * second time in a row, …, at most 60 s), while fewer than half are ejected.
 */
export const DEFAULT_OUTLIER_DETECTION = {
  intervalMs: 1_000,
  baseEjectionTimeMs: 5_000,
  maxEjectionTimeMs: 60_000,
  maxEjectionPercent: 50,
  failurePercentageThreshold: 30,
  minimumHosts: 2,
  requestVolume: 20,
} as const;

/**
 * Messages a response stream reads ahead of its consumer. grpc-js delivers one
 * message per read request; asking for the next while the consumer handles
 * this one keeps the stream busy without unbounded buffering.
 */
export const STREAM_READ_AHEAD = 16;

/**
 * Writes a request stream keeps in flight once the stream is up: several
 * messages go out together (fewer socket writes per message) while the
 * iterable produces the next; beyond that it waits for grpc-js.
 */
export const STREAM_WRITE_AHEAD = 16;

/**
 * Failure accrual (on unless `failureAccrual: false`): 5 failures in a row
 * take a backend out (Finagle's default too) for 1 s, doubling each time in
 * a row up to 30 s (Finagle: 5 s to 300 s, for large clusters; a client of a
 * handful of backends needs each back sooner), then one probe call.
 */
export const DEFAULT_FAILURE_ACCRUAL = {
  consecutiveFailures: 5,
  baseEjectionMs: 1_000,
  maxEjectionMs: 30_000,
} as const;

/**
 * The retry budget of every client unless `retryBudget` says otherwise:
 * Finagle's `RetryBudget` defaults (20% of calls plus 10 retries per second,
 * over 10 s). gRPC's `retryThrottling` is a token bucket that stops retries
 * once failures pass half its tokens; the ratio form says directly what the
 * servers may receive in an outage: the calls, plus 20%, plus 10 per second.
 */
export const DEFAULT_RETRY_BUDGET = { ratio: 0.2, minPerSecond: 10 } as const;

/** The window the retry and hedge budgets count calls over, ms. */
export const BUDGET_WINDOW_MS = 10_000;

/**
 * Hedging with `hedging: true`: a second attempt after the method's p95
 * latency, one hedge at most, hedges at most 10% of the calls.
 */
export const DEFAULT_HEDGING = { delayMs: "auto", maxHedges: 1, budget: 0.1 } as {
  delayMs: number | "auto";
  maxHedges: number;
  budget: number;
};

/** The "auto" hedge delay: this percentile of recent latencies, at least {@link HEDGE_DELAY_FLOOR_MS}. */
export const HEDGE_DELAY_PERCENTILE = 0.95;

/** The shortest "auto" hedge delay, ms: below it, a hedge would race the first attempt's own round trip. */
export const HEDGE_DELAY_FLOOR_MS = 5;

/**
 * Servers serve grpc.health.v1 unless `health: false`: Kubernetes' gRPC
 * probes and health-checking clients need it, and it costs nothing until called.
 */
export const DEFAULT_HEALTH = true;

/**
 * How a server drains unless its `drain` option says otherwise. 5 s of
 * NOT_SERVING while still serving: health-checking clients act within a
 * round trip, but Kubernetes removes a terminating pod's endpoint at the same
 * time as it sends SIGTERM, and kube-proxy, ingresses and DNS-based clients
 * take a few seconds to follow. Then 10 s for calls in flight (as
 * `shutdown()` has always given them). 15 s in all: within Kubernetes' default
 * `terminationGracePeriodSeconds` of 30.
 */
export const DEFAULT_DRAIN = { delayMs: 5_000, timeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS } as const;

/** Servers leave SIGTERM and SIGINT to the application unless `handleSignals: true`. */
export const DEFAULT_HANDLE_SIGNALS = false;

/**
 * Client-side health checking (on unless `healthCheck: false`): the service
 * name each connection's `Watch` asks about; `""` is the server as a whole,
 * what `startServer`, grpc-go's and grpc-java's health servers answer for.
 */
export const DEFAULT_HEALTH_CHECK = { serviceName: "" } as const;

/**
 * A `Watch` that failed (any status but UNIMPLEMENTED) is made again after
 * `firstMs`, doubling to `maxMs`, ±20% so the connections of many clients
 * whose Watch a server ended at once do not come back at once. A Watch that
 * got an answer before it ended starts again from `firstMs`, never at once:
 * a server that ends every Watch after one answer is asked once a second.
 */
export const HEALTH_WATCH_RETRY = { firstMs: 1_000, maxMs: 30_000, jitter: 0.2 } as const;

/**
 * How long a new connection waits for its server's first health answer
 * before it takes calls anyway, ms: a server answers within a round trip,
 * and one whose health service never answers must not keep the connection
 * out of the picks for ever (its health stays "unknown").
 */
export const HEALTH_FIRST_ANSWER_TIMEOUT_MS = 1_000;
