import { Metadata as GrpcMetadata } from "@grpc/grpc-js";
import { Metadata } from "nice-grpc-common";
import { InvalidOptionError } from "../errors.js";

/** @internal The metadata grpc-js sends for one attempt: the caller's, if any, and waitForReady. */
export function outgoingMetadata(metadata: Metadata | undefined, waitForReady: boolean | undefined): GrpcMetadata {
  const grpc = new GrpcMetadata();
  if (metadata) {
    for (const [key, values] of metadata) {
      for (const value of values) grpc.add(key, typeof value === "string" ? value : Buffer.from(value));
    }
  }
  // grpc-js honours waitForReady only as a metadata option.
  if (waitForReady) grpc.setOptions({ waitForReady: true });
  return grpc;
}

/** @internal grpc-js metadata as nice-grpc's, for `onHeader` and `onTrailer`. */
export function incomingMetadata(grpc: GrpcMetadata): Metadata {
  const metadata = Metadata();
  for (const key of Object.keys(grpc.getMap())) metadata.set(key, grpc.get(key) as string[]);
  return metadata;
}

/** Per entry, what HTTP/2 adds to its name and value when it counts a header list (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;

/**
 * @internal
 * The size of `metadata` as HTTP/2 counts a header list: each entry's name
 * and value plus 32 bytes; binary (`-bin`) values as the base64 sent.
 */
export function metadataSize(metadata: Metadata): number {
  let size = 0;
  for (const [key, values] of metadata) {
    for (const value of values) {
      const length = typeof value === "string" ? Buffer.byteLength(value) : Math.ceil(value.length / 3) * 4;
      size += key.length + length + ENTRY_OVERHEAD;
    }
  }
  return size;
}

/**
 * @internal
 * Metadata larger than the channel takes fails the call before anything is
 * sent, naming the size and the limit: a server would reset the stream.
 */
export function checkMetadataSize(metadata: Metadata, limit: number): void {
  const size = metadataSize(metadata);
  if (size <= limit) return;
  throw new InvalidOptionError(
    "metadata",
    `${size} bytes`,
    `expected at most ${limit} bytes of metadata (each entry's name and value plus 32, as HTTP/2 counts it; ` +
      "the client's maxMetadataSize)",
  );
}
