import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { Metadata } from "@grpc/grpc-js";

/** @internal What every request of a channel sends besides its path, deadline and metadata. */
export interface RequestBase {
  /** `:authority`: the target's host (or `grpc.default_authority`). */
  readonly authority: string;
  readonly userAgent: string;
}

/** Compression the transport can read in responses (it sends none). */
const ACCEPT_ENCODING = "identity,deflate,gzip";

/**
 * @internal
 * A call's request headers (PROTOCOL-HTTP2 "Request-Headers"): the caller's
 * metadata as grpc-js writes it (`-bin` values in base64, repeated keys as
 * arrays), then the fixed ones, which win over metadata of the same name.
 * One object per call; Node copies it into its own header list.
 */
export function requestHeaders(
  metadata: Metadata,
  path: string,
  base: RequestBase,
  timeout: string | undefined,
): OutgoingHttpHeaders {
  const headers = metadata.toHttp2Headers();
  headers[":method"] = "POST";
  headers[":path"] = path;
  headers[":authority"] = base.authority;
  headers["content-type"] = "application/grpc";
  headers.te = "trailers";
  headers["user-agent"] = base.userAgent;
  headers["grpc-accept-encoding"] = ACCEPT_ENCODING;
  if (timeout !== undefined) headers["grpc-timeout"] = timeout;
  return headers;
}

/** Response headers that are the transport's business, not the caller's metadata (as grpc-js drops them). */
const TRANSPORT_HEADERS = new Set(["grpc-encoding", "grpc-accept-encoding"]);

/**
 * @internal
 * The metadata in a response's headers or trailers, as grpc-js's
 * `Metadata.fromHttp2Headers` reads it (pseudo-headers left out, `-bin`
 * values decoded from base64, a custom binary header's comma-joined values
 * split), less the transport's own headers and those in `skip`.
 */
export function metadataFromHeaders(headers: IncomingHttpHeaders, skip?: ReadonlySet<string>): Metadata {
  const metadata = new Metadata();
  for (const key in headers) {
    if (key.charCodeAt(0) === 58 /* : */ || TRANSPORT_HEADERS.has(key) || skip?.has(key)) continue;
    const values = headers[key];
    if (values === undefined) continue;
    try {
      if (key.endsWith("-bin")) {
        const list = Array.isArray(values) ? values : values.split(",");
        for (const value of list) metadata.add(key, Buffer.from(value.trim(), "base64"));
      } else if (Array.isArray(values)) {
        for (const value of values) metadata.add(key, value);
      } else {
        metadata.add(key, values);
      }
    } catch {
      // A header grpc-js's Metadata refuses (an invalid key or value) is left out, as grpc-js does.
    }
  }
  return metadata;
}
