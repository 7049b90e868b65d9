/**
 * @internal
 * What an aborted call rejects with: the signal's reason (an `AbortError`
 * DOMException unless the caller gave one), as nice-grpc does.
 */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation has been aborted", "AbortError");
}
