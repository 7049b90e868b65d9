import { gunzipSync, inflateSync } from "node:zlib";

/**
 * @internal
 * A compressed message's bytes, as the response's `grpc-encoding` says they
 * were compressed (`gzip` or `deflate`, what the request offers in
 * `grpc-accept-encoding`), or an Error naming the problem (the call then ends
 * INTERNAL, or RESOURCE_EXHAUSTED past `maxLength`, -1 for none).
 *
 * Synchronous, so messages stay in order with no queue: a large compressed
 * message blocks the event loop while it inflates (grpc-js inflates
 * asynchronously; a follow-up if servers send large compressed messages).
 * `maxOutputLength` stops a message that would inflate past the receive limit.
 */
export function decompress(bytes: Buffer, encoding: string | undefined, maxLength: number): Buffer | Error {
  const options = maxLength === -1 ? undefined : { maxOutputLength: Math.max(1, maxLength) };
  try {
    switch (encoding) {
      case "gzip":
        return gunzipSync(bytes, options);
      case "deflate":
        return inflateSync(bytes, options);
      default:
        return new Error(`Received compressed message but "grpc-encoding" header was ${encoding ?? "absent"}`);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      return new DecompressedTooLargeError(maxLength);
    }
    return new Error(`Failed to decompress ${encoding}-encoded message`);
  }
}

/** @internal A compressed message that inflates past the receive limit. */
export class DecompressedTooLargeError extends Error {
  constructor(limit: number) {
    super(`Received message that decompresses to a size larger than ${limit}`);
  }
}
