import type { CallOptions, ClientMiddleware } from "nice-grpc-common";
import type { SdkCallOptions } from "./call/call-options.js";
import { type ResolvedHedging, resolveHedging } from "./call/hedging-settings.js";
import {
  type ResolvedRetryBudget,
  type ResolvedRetrySettings,
  resolveRetry,
  resolveRetryBudget,
} from "./call/retry-settings.js";
import { type ResolvedChannelSettings, resolveChannelSettings } from "./channel/channel-settings.js";
import { checkKnownKeys, checkObject } from "./check.js";
import type { ChannelSettings, ClientOptions } from "./client-options.js";
import { InvalidOptionError } from "./errors.js";
import { resolveStrategy } from "./resolve-strategy.js";

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
