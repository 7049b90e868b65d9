import {
  type CallOptions,
  type Channel,
  type Client,
  type ClientMiddleware,
  type CompatServiceDefinition,
  createClientFactory,
  type NormalizedServiceDefinition,
} from "nice-grpc";
import { deadlineMiddleware } from "nice-grpc-client-middleware-deadline";
import { type RetryOptions, retryMiddleware } from "nice-grpc-client-middleware-retry";
import { callOptionsMiddleware, type SdkCallOptions } from "./call-options.js";
import type { ChannelPool } from "./channel-pool.js";
import { type ChannelSettings, createChannel } from "./create-channel.js";
import { DEFAULT_RETRY } from "./defaults.js";
import { InvalidOptionError } from "./errors.js";
import { resolveStrategy, type StrategyOptions } from "./strategy.js";

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

/** Options of every `create<Service>Client` factory and of {@link createServiceClient}. */
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
     * which calls `b`, which calls the SDK's own (deadline, then retry). Each
     * runs once per call and sees the call's final outcome, after any retries;
     * streaming calls pass through them too.
     * @default []
     */
    middleware?: readonly ClientMiddleware<any, any>[];
    /**
     * Call options for every call (`"*"`) or per method, e.g.
     * `{ "*": { deadline: 2_000 }, sayHello: { retryMaxAttempts: 5 } }`.
     * A call's own options win over these.
     * @default {}
     */
    defaultCallOptions?: SdkDefaultCallOptions<Service>;
    /**
     * Retry settings for the client, or `false` for no retry middleware at all
     * (then no call retries, whatever its options). Methods marked
     * `idempotency_level = NO_SIDE_EFFECTS` or `IDEMPOTENT` retry by default;
     * others only with `retry: true` on the call.
     * @default { retryBaseDelayMs: 50, retryMaxDelayMs: 2000, retryMaxAttempts: 3 }
     */
    retry?: RetrySettings | false;
  };

/** What every generated client has besides its service's methods. */
export interface ClientControls {
  /**
   * Closes the client's connections. Calls already sent finish; calls still
   * waiting for a connection end with CANCELLED; later calls reject at once.
   * Once every client is closed the process can exit. Calling it again does nothing.
   */
  close(): void;
  /** The client's channel, for `stats()` and connectivity state. */
  readonly $channel: ChannelPool;
}

/** A typed nice-grpc client for `Service` with the SDK's call options and {@link ClientControls}. */
export type SdkClient<Service extends CompatServiceDefinition> = Client<Service, SdkCallOptions> & ClientControls;

const RESERVED = ["close", "$channel"];

/**
 * Creates a typed client for any nice-grpc service definition; the generated
 * `create<Service>Client` factories call this.
 */
export function createServiceClient<Service extends CompatServiceDefinition>(
  definition: Service,
  options: ClientOptions<Service>,
): SdkClient<Service> {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionError("options", options, "expected an object with at least a target");
  }
  checkMethodNames(definition);
  const retry = checkRetry(options.retry);
  const middleware = checkMiddleware(options.middleware);
  const strategy = resolveStrategy(options);
  const channel = createChannel(options.target, strategy, options);

  // nice-grpc runs the middleware added last outermost. Innermost first:
  // retry (around the attempts), deadline (one for all attempts, and it cuts a
  // backoff short), the SDK's call options (deadline to the server,
  // waitForReady), then the user's, first element outermost.
  let factory = createClientFactory();
  if (retry) factory = factory.use(retryMiddleware);
  let sdkFactory = factory.use(deadlineMiddleware).use(callOptionsMiddleware);
  for (const m of [...middleware].reverse()) sdkFactory = sdkFactory.use(m);

  const defaults = (options.defaultCallOptions ?? {}) as Record<string, SdkCallOptions>;
  const callDefaults = { ...defaults, "*": { ...(retry || {}), ...defaults["*"] } } as SdkDefaultCallOptions<Service>;
  // nice-grpc types its channel parameter as grpc-js's Channel class but only
  // ever calls createCall(), which ChannelPool implements.
  const client = sdkFactory.create(definition, channel as unknown as Channel, callDefaults) as SdkClient<Service>;
  Object.defineProperties(client, {
    close: { value: () => channel.close(), enumerable: false },
    $channel: { value: channel, enumerable: false },
  });
  return client;
}

function checkRetry(retry: unknown): RetrySettings | false {
  if (retry === false) return false;
  if (retry === undefined) return { ...DEFAULT_RETRY };
  if (typeof retry !== "object" || retry === null) {
    throw new InvalidOptionError("retry", retry, "expected retry settings or false");
  }
  const settings = { ...DEFAULT_RETRY, ...(retry as RetrySettings) };
  for (const key of ["retryBaseDelayMs", "retryMaxDelayMs"] as const) {
    const value = settings[key];
    if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
      throw new InvalidOptionError(`retry.${key}`, value, "expected a number of milliseconds, 0 or more");
    }
  }
  const attempts = settings.retryMaxAttempts;
  if (typeof attempts !== "number" || !(attempts === Infinity || (Number.isInteger(attempts) && attempts >= 0))) {
    throw new InvalidOptionError(
      "retry.retryMaxAttempts",
      attempts,
      "expected a whole number of retries, 0 or more, or Infinity",
    );
  }
  return settings;
}

function checkMiddleware(middleware: unknown): readonly ClientMiddleware<any, any>[] {
  if (middleware === undefined) return [];
  if (!Array.isArray(middleware) || middleware.some((m) => typeof m !== "function")) {
    throw new InvalidOptionError(
      "middleware",
      middleware,
      "expected an array of nice-grpc client middleware functions",
    );
  }
  return middleware;
}

function checkMethodNames(definition: CompatServiceDefinition): void {
  const methods = Object.keys(definition as object);
  const names =
    "methods" in definition && typeof definition.methods === "object"
      ? Object.keys(definition.methods as object)
      : methods;
  const clash = names.find((name) => RESERVED.includes(name));
  if (clash) {
    throw new InvalidOptionError(
      "definition",
      clash,
      `expected no method named ${RESERVED.join(" or ")} (the client uses these names)`,
    );
  }
}
