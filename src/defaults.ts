/**
 * Every default the SDK applies, in one place. Options documented elsewhere
 * state these values in their JSDoc; change both together.
 */
import type { ChannelOptions } from "@grpc/grpc-js";
import type { PickPolicy } from "./strategy.js";

/**
 * Pick policy of `pool(n)` when none is given. `npm run bench:pick`: equal to
 * round robin when backends are alike (0.99×), 2.2× the calls/s when one
 * backend behind an L4 balancer is 50 ms slow; 25 ns per pick.
 */
export const DEFAULT_PICK: PickPolicy = "p2c";

/** Largest `pool(n)`: a guard against typos such as `pool(10000)`, not a limit of grpc-js. */
export const MAX_POOL_SIZE = 1024;

/** grpc-js channel options the SDK sets on every channel; `channelOptions` is merged over them. */
export const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  // grpc-js re-resolves a DNS name only when a connection closes, and by
  // default at most every 30 s: with servers at max connection age A, a new
  // backend would be found ~30 s late. 1 s finds it within A + 1 s. The cost:
  // at most one lookup (A and AAAA queries) per channel per second, and only
  // after a connection closed. See the README's "Discovery" for the load.
  "grpc.dns_min_time_between_resolutions_ms": 1_000,
  // A service config published in DNS TXT records would take precedence over
  // the strategy's load-balancing config: the client, not DNS, chooses how
  // calls spread. It also saves a query per resolution.
  "grpc.service_config_disable_resolution": 1,
};

/** How long `RunningServer.shutdown()` lets running calls finish before forcing. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * Retry settings of every client unless its `retry` option says otherwise.
 * The retry package's own 1 s base delay suits batch jobs, not an RPC path:
 * 50 ms, doubling (with jitter) up to 2 s, at most 3 retries after the first
 * attempt. Which calls retry follows the proto (idempotency_level), and which
 * codes retry is the package's default: UNKNOWN, INTERNAL, UNAVAILABLE, CANCELLED.
 */
export const DEFAULT_RETRY = {
  retryBaseDelayMs: 50,
  retryMaxDelayMs: 2_000,
  retryMaxAttempts: 3,
} as const;

/**
 * Refused streams (never processed by the server) are sent again at most
 * `maxReplays` times per call, and only while what the call sent fits in
 * `maxBufferedBytes` (gRPC's own retry buffer is of this order).
 */
export const REFUSED_STREAM_REPLAY = {
  maxReplays: 5,
  maxBufferedBytes: 1024 * 1024,
} as const;

/** Client keepalive with `keepalive: true`: a hung server is left within ~2 s. */
export const DEFAULT_KEEPALIVE = { timeMs: 1_000, timeoutMs: 1_000 } as const;
