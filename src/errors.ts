import { inspect } from "node:util";
import { Status } from "nice-grpc-common";

/**
 * Thrown at construction when an option has a value the SDK cannot use.
 * grpc-js accepts many such values and fails only when a call is made; the SDK
 * rejects them up front, naming the option and the value.
 */
export class InvalidOptionError extends TypeError {
  override readonly name = "InvalidOptionError";

  constructor(
    /** The option's name as the caller wrote it, e.g. `size` or `target`. */
    readonly option: string,
    /** The value that was rejected. */
    readonly value: unknown,
    /** What a valid value looks like. */
    expected: string,
  ) {
    super(`balanced-grpc: invalid option "${option}": ${expected}, got ${inspect(value)}`);
  }
}

/**
 * Thrown when a call is started on a client or channel that was closed. Its
 * `code` is CANCELLED, as for calls that `close()` ends before they were sent.
 * It is not a nice-grpc `ClientError` on purpose: the retry middleware retries
 * CANCELLED ClientErrors, and a closed client must fail at once.
 */
export class ClientClosedError extends Error {
  override readonly name = "ClientClosedError";
  readonly code = Status.CANCELLED;

  constructor(target: string) {
    super(`balanced-grpc: the client for "${target}" is closed; create a new client to make calls`);
  }
}
