import type { Client, CompatServiceDefinition } from "nice-grpc";
import { type ClientMiddleware, type ClientMiddlewareCall, composeClientMiddleware } from "nice-grpc-common";
import { ResponseAsNext } from "./call/as-next.js";
import type { SdkCallOptions } from "./call/call-options.js";
import { CallPolicy } from "./call/call-policy.js";
import type { EngineCallOptions } from "./call/call-types.js";
import { checkCallOptions } from "./call/check-call-options.js";
import { clientStreamingCall } from "./call/client-streaming-call.js";
import { failedStream } from "./call/failed-stream.js";
import { type MethodInfo, methodsOf } from "./call/method.js";
import { ResponseStream } from "./call/response-stream.js";
import { unaryCall } from "./call/unary-call.js";
import type { BalancedChannel, CloseOptions } from "./channel/balanced-channel.js";
import { openChannel } from "./channel/create-balanced-channel.js";
import type { ClientOptions } from "./client-options.js";
import { type ResolvedClientSettings, resolveClientOptions } from "./client-settings.js";
import { InvalidOptionError } from "./errors.js";

/** What every generated client has besides its service's methods. */
export interface ClientControls {
  /**
   * Closes the client's connections. Calls already sent finish, or with
   * `{ graceMs }` are cancelled once that time is up; calls still waiting
   * for a connection end with CANCELLED; later calls reject at once.
   * Resolves when every call has ended. Once every client is closed and its
   * calls have ended, the process can exit: a call without a deadline to a
   * server that never answers runs until `graceMs` cancels it. Calling it
   * again closes nothing more.
   */
  close(options?: CloseOptions): Promise<void>;
  /** The client's channel: `stats()` per connection, connectivity state. */
  readonly $channel: BalancedChannel;
}

/** A typed nice-grpc client for `Service` with the SDK's call options and {@link ClientControls}. */
export type SdkClient<Service extends CompatServiceDefinition> = Client<Service, SdkCallOptions> & ClientControls;

type AnyMiddleware = ClientMiddleware<unknown, unknown>;
type MethodFunction = (request: unknown, options?: EngineCallOptions) => unknown;

const NO_OPTIONS: EngineCallOptions = Object.freeze({});

/**
 * Creates a typed client for any nice-grpc service definition; the generated
 * `create<Service>Client` factories call this.
 *
 * Calls run on the SDK's own call engine, straight on the channel: deadline
 * (sent to the server), retries, `waitForReady`, `signal`, `metadata`,
 * `onHeader` and `onTrailer`, with no generator or conversion a call does not
 * use. Your middleware, if any, wraps the engine with nice-grpc's protocol.
 */
export function createServiceClient<Service extends CompatServiceDefinition>(
  definition: Service,
  options: ClientOptions<Service>,
): SdkClient<Service> {
  const settings = resolveClientOptions(options);
  const methods = methodsOf(definition);
  // With middleware, call options may carry the middleware's own names: only the engine's are checked.
  const strict = settings.middleware.length === 0;
  // Every option checked before anything opens: a bad one leaves no channel or gauge behind.
  checkDefaultCallOptions(settings, methods, strict);
  const middleware = strict ? undefined : compose(settings.middleware);
  const policy = new CallPolicy(settings.retry, settings.retryBudget, settings.hedging);
  const channel = openChannel(settings.channel);
  const client: Record<string, unknown> = {};
  for (const method of methods) {
    const defaults = defaultsFor(settings, method.name);
    checked.add(defaults);
    const engine = engineFor(channel, method, policy, strict);
    const run = middleware ? withMiddleware(middleware, method, engine) : engine;
    client[method.name] =
      defaults === NO_OPTIONS
        ? run
        : (request: unknown, options?: EngineCallOptions) =>
            run(request, options === undefined ? defaults : { ...defaults, ...options });
  }
  Object.defineProperties(client, {
    close: { value: (options?: CloseOptions) => channel.close(options), enumerable: false },
    $channel: { value: channel, enumerable: false },
  });
  return client as SdkClient<Service>;
}

/** The first element outermost: `[a, b]` runs a, which calls b, which calls the engine. */
function compose(middleware: readonly ClientMiddleware<unknown, unknown>[]): AnyMiddleware {
  return middleware.reduceRight((inner, outer) => composeClientMiddleware(inner, outer) as AnyMiddleware);
}

function defaultsFor(settings: ResolvedClientSettings, name: string): EngineCallOptions {
  const all = settings.defaultCallOptions["*"];
  const own = settings.defaultCallOptions[name];
  if (!all && !own) return NO_OPTIONS;
  return { ...all, ...own };
}

/** Call options objects already checked: no options, and each method's defaults. */
const checked = new WeakSet<object>([NO_OPTIONS]);

/** A client's `defaultCallOptions`: `"*"` or method names, each a valid set of call options. */
function checkDefaultCallOptions(
  settings: ResolvedClientSettings,
  methods: readonly MethodInfo[],
  strict: boolean,
): void {
  const names = ["*", ...methods.map((m) => m.name)];
  for (const [name, options] of Object.entries(settings.defaultCallOptions)) {
    if (!names.includes(name)) {
      throw new InvalidOptionError(
        `defaultCallOptions.${name}`,
        options,
        `expected "*" or a method of the service (${names.slice(1).join(", ")})`,
      );
    }
    checkCallOptions(options, `defaultCallOptions.${name}.`, strict);
  }
}

/**
 * The engine for one method. Call options are checked first (unless already
 * checked): bad ones are the call's failure, a rejection or the stream's
 * first error, the same for every kind; nothing is sent.
 */
function engineFor(channel: BalancedChannel, method: MethodInfo, policy: CallPolicy, strict: boolean): MethodFunction {
  const invalid = (options: EngineCallOptions): unknown => {
    if (options === NO_OPTIONS || checked.has(options)) return undefined;
    try {
      checkCallOptions(options, "", strict);
      return undefined;
    } catch (error) {
      return error;
    }
  };
  switch (method.kind) {
    case "unary":
      return (request, options = NO_OPTIONS) => {
        const error = invalid(options);
        return error ? Promise.reject(error) : unaryCall(channel, method, request, options, policy);
      };
    case "clientStreaming":
      return (requests, options = NO_OPTIONS) => {
        const error = invalid(options);
        return error
          ? Promise.reject(error)
          : clientStreamingCall(channel, method, requests as AsyncIterable<unknown>, options);
      };
    default:
      return (request, options = NO_OPTIONS) => {
        const error = invalid(options);
        return error ? failedStream(error) : new ResponseStream(channel, method, request, options);
      };
  }
}

/**
 * nice-grpc's middleware protocol around the engine: each middleware is an
 * async generator given `next`; the innermost `next` is the engine.
 */
function withMiddleware(middleware: AnyMiddleware, method: MethodInfo, engine: MethodFunction): MethodFunction {
  const { descriptor } = method;
  const { requestStream, responseStream } = descriptor;
  // The engine as the innermost `next`: a response stream is already an async
  // iterator; a single response is wrapped as one that returns it.
  const next = responseStream
    ? (request: unknown, options: EngineCallOptions) => engine(request, options)
    : (request: unknown, options: EngineCallOptions) =>
        new ResponseAsNext(() => engine(request, options) as Promise<unknown>);
  const callOf = (request: unknown) =>
    ({ method: descriptor, requestStream, request, responseStream, next }) as unknown as ClientMiddlewareCall<
      unknown,
      unknown
    >;
  // A middleware that throws, or returns no async iterator, fails the call where every failure goes.
  const start = (request: unknown, options: EngineCallOptions) => {
    const iterator = middleware(callOf(request), options as SdkCallOptions);
    if (typeof iterator?.next !== "function") {
      throw new TypeError(
        `balanced-grpc: a middleware of ${descriptor.path} returned ${typeof iterator}, not an async iterator: write it as an async generator (async function* (call, options) { … })`,
      );
    }
    return iterator;
  };
  if (responseStream) {
    return (request, options = NO_OPTIONS) => {
      try {
        return start(request, options);
      } catch (error) {
        return failedStream(error);
      }
    };
  }
  return async (request, options = NO_OPTIONS) => {
    const iterator = start(request, options);
    let result = await iterator.next();
    // As nice-grpc: a middleware of a single-response call must return one message.
    while (true) {
      if (!result.done) {
        result = await iterator.throw(
          new Error("A middleware yielded a message, but expected to only return a message"),
        );
        continue;
      }
      if (result.value == null) {
        result = await iterator.throw(new Error("A middleware returned void, but expected to return a message"));
        continue;
      }
      return result.value;
    }
  };
}
