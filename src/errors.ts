import { Status } from "nice-grpc-common";
import { describeValue, shorten } from "./describe-value.js";

/** Characters of `expected` shown: a guard against callers that quote a huge value into it. */
const MAX_EXPECTED_CHARS = 300;

/** Characters of an option's name shown (unknown keys are written by the caller). */
const MAX_OPTION_CHARS = 60;

/**
 * Thrown at construction when an option has a value the SDK cannot use.
 * grpc-js accepts many such values and fails only when a call is made; the SDK
 * rejects them up front, naming the option and the value.
 *
 * The message describes the value briefly and never prints what an object
 * holds (an implementation's config, a credential's key): primitives are
 * shown, long strings cut with their length, objects by type and a few key
 * names. `value` keeps the rejected value for code, but is not enumerable, so
 * logging the error (`console.error`, `util.inspect`) does not print it either.
 */
export class InvalidOptionError extends TypeError {
  /** Always `"InvalidOptionError"`. */
  override readonly name = "InvalidOptionError";
  /** The value that was rejected (not enumerable: see above). */
  declare readonly value: unknown;

  constructor(
    /** The option's name as the caller wrote it, e.g. `size` or `target`. */
    readonly option: string,
    value: unknown,
    /** What a valid value looks like. */
    expected: string,
  ) {
    super(
      `balanced-grpc: invalid option "${shorten(option, MAX_OPTION_CHARS)}": ` +
        `${shorten(expected, MAX_EXPECTED_CHARS)}, got ${describeValue(value)}`,
    );
    Object.defineProperty(this, "value", { value, enumerable: false });
  }
}

/**
 * Thrown when a call is started on a client or channel that was closed. Its
 * `code` is CANCELLED, as for calls that `close()` ends before they were sent.
 * It is not a nice-grpc `ClientError` on purpose: the retry middleware retries
 * CANCELLED ClientErrors, and a closed client must fail at once.
 */
export class ClientClosedError extends Error {
  /** Always `"ClientClosedError"`. */
  override readonly name = "ClientClosedError";
  /** CANCELLED, as for calls that `close()` ends before they were sent. */
  readonly code = Status.CANCELLED;

  constructor(target: string) {
    super(
      `balanced-grpc: the client for "${shorten(target, MAX_OPTION_CHARS)}" is closed; create a new client to make calls`,
    );
  }
}

/** The call options whose callbacks the SDK calls: user code, run by the call. */
export type CallCallbackName = "onHeader" | "onTrailer" | "onRetryableError";

/**
 * The call failed because one of its callbacks (`onHeader`, `onTrailer`,
 * `onRetryableError`) threw: that call ends with this error (its attempts
 * cancelled), the thrown value as its `cause`; nothing else is affected.
 */
export class CallbackError extends Error {
  /** Always `"CallbackError"`. */
  override readonly name = "CallbackError";
  /** CANCELLED: the call was ended on the client. */
  readonly code = Status.CANCELLED;

  constructor(
    /** The callback that threw. */
    readonly callback: CallCallbackName,
    /** The method of the call, e.g. `/helloworld.Greeter/SayHello`. */
    readonly path: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : describeValue(cause);
    super(`balanced-grpc: the ${callback} callback of a ${path} call threw: ${shorten(reason, 200)}`, { cause });
  }
}
