import { inspect } from "node:util";

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

/** Thrown when a call is started on a client or channel that was closed. */
export class ClientClosedError extends Error {
  override readonly name = "ClientClosedError";

  constructor(target: string) {
    super(`balanced-grpc: the client for "${target}" is closed; create a new client to make calls`);
  }
}
