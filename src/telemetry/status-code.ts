import { ClientError, Status } from "nice-grpc-common";

/** @internal A status code's name, as A66's `grpc.status` attribute has it ("OK", "UNAVAILABLE"). */
export function statusName(code: number): string {
  return Status[code] ?? "UNKNOWN";
}

/**
 * @internal
 * The status a call ended with, from what it settled with: OK, a ClientError's
 * code, CANCELLED for an abort (as the server saw it), a closed client and a callback that threw,
 * UNKNOWN for anything else (a caller's request iterable that threw).
 */
export function statusOfOutcome(error: unknown): number {
  if (error === undefined) return Status.OK;
  if (error instanceof ClientError) return error.code;
  if (
    error instanceof Error &&
    (error.name === "AbortError" || error.name === "ClientClosedError" || error.name === "CallbackError")
  ) {
    return Status.CANCELLED;
  }
  return Status.UNKNOWN;
}
