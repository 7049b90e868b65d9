import { constants as h2, type IncomingHttpHeaders } from "node:http2";
import { Metadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import { REFUSED_STREAM_DETAILS } from "../grpc-js-errors.js";
import { metadataFromHeaders } from "./headers.js";

/**
 * @internal
 * The status of a response whose HTTP status is not 200 and that carries no
 * `grpc-status` (a proxy's error page, a server that is not gRPC): mapped as
 * gRPC's http-grpc-status-mapping.md and grpc-js do.
 */
export function statusFromHttp(httpStatus: number, metadata: Metadata = new Metadata()): StatusObject {
  let code: Status;
  switch (httpStatus) {
    case 400:
      code = Status.INTERNAL;
      break;
    case 401:
      code = Status.UNAUTHENTICATED;
      break;
    case 403:
      code = Status.PERMISSION_DENIED;
      break;
    case 404:
      code = Status.UNIMPLEMENTED;
      break;
    case 429:
    case 502:
    case 503:
    case 504:
      code = Status.UNAVAILABLE;
      break;
    default:
      code = Status.UNKNOWN;
  }
  return { code, details: `Received HTTP status code ${httpStatus}`, metadata };
}

/**
 * @internal
 * The status in a response's trailers (or its only headers, trailers-only):
 * `grpc-status`, `grpc-message` percent-decoded (PROTOCOL-HTTP2: the sender
 * percent-encodes it), and every other entry as the trailer metadata,
 * `grpc-status-details-bin` included (decoded from base64, as any `-bin`).
 * Without a `grpc-status`, the HTTP status decides.
 */
export function statusFromTrailers(headers: IncomingHttpHeaders, httpStatus: number | undefined): StatusObject {
  const metadata = metadataFromHeaders(headers, TRAILER_SKIP);
  const code = headers["grpc-status"];
  if (typeof code === "string") {
    const message = headers["grpc-message"];
    return {
      code: Number(code),
      details: typeof message === "string" ? percentDecode(message) : "",
      metadata,
    };
  }
  if (httpStatus !== undefined && httpStatus !== 200) return statusFromHttp(httpStatus, metadata);
  return { code: Status.UNKNOWN, details: "No status information received", metadata };
}

/** Headers of a trailer block that are the status, not metadata. */
const TRAILER_SKIP = new Set(["grpc-status", "grpc-message"]);

/**
 * Percent-decoding of `grpc-message`. grpc-js uses `decodeURI`, which leaves
 * `%2C`, `%3A`, `%2F`, … encoded; the spec asks for every escape decoded. A
 * malformed escape leaves the text as sent.
 */
function percentDecode(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** @internal Why a stream closed without a status, as {@link statusFromReset} needs to know. */
export interface ResetCause {
  /** The stream's RST_STREAM code (Node's `stream.rstCode`). */
  rstCode: number | undefined;
  /** The HTTP status of its response headers, if they came. */
  httpStatus: number | undefined;
  /** The connection went away under it (Node then closes its streams with NO_ERROR or CANCEL). */
  connectionDropped: boolean;
  /** An error Node reported on the stream (`ECONNRESET`, …), if any. */
  error: NodeJS.ErrnoException | undefined;
  /**
   * The server never saw the stream: above the last stream id of its GOAWAY,
   * or never sent. Such a stream is refused whatever code it closed with.
   */
  unprocessed: boolean;
}

/**
 * @internal
 * The status of a stream that closed with no gRPC status: RST_STREAM codes
 * mapped word for word as grpc-js maps them (the SDK matches some of these
 * words: "Stream refused by server" is what a replay looks for), plus one
 * case grpc-js cannot see: a stream the server's GOAWAY says it never
 * processed is refused, whatever Node closed it with.
 */
export function statusFromReset(cause: ResetCause): StatusObject {
  const metadata = new Metadata();
  const { rstCode } = cause;
  if (cause.unprocessed || rstCode === h2.NGHTTP2_REFUSED_STREAM) {
    return { code: Status.UNAVAILABLE, details: REFUSED_STREAM_DETAILS, metadata };
  }
  // The connection went away under the stream (closed, failed, a ping unanswered): Node closes its
  // streams with NO_ERROR or CANCEL then. grpc-js reports these calls before Node does.
  if (cause.connectionDropped && (rstCode === h2.NGHTTP2_NO_ERROR || rstCode === h2.NGHTTP2_CANCEL)) {
    return { code: Status.UNAVAILABLE, details: "Connection dropped", metadata };
  }
  switch (rstCode) {
    case h2.NGHTTP2_NO_ERROR:
      if (cause.httpStatus !== undefined && cause.httpStatus !== 200) return statusFromHttp(cause.httpStatus, metadata);
      return {
        code: Status.INTERNAL,
        details: `Received RST_STREAM with code ${rstCode} (Call ended without gRPC status)`,
        metadata,
      };
    case h2.NGHTTP2_CANCEL:
      return { code: Status.CANCELLED, details: "Call cancelled", metadata };
    case h2.NGHTTP2_ENHANCE_YOUR_CALM:
      return { code: Status.RESOURCE_EXHAUSTED, details: "Bandwidth exhausted or memory limit exceeded", metadata };
    case h2.NGHTTP2_INADEQUATE_SECURITY:
      return { code: Status.PERMISSION_DENIED, details: "Protocol not secure enough", metadata };
    case h2.NGHTTP2_INTERNAL_ERROR: {
      const { error } = cause;
      if (error === undefined) {
        return {
          code: Status.INTERNAL,
          details: `Received RST_STREAM with code ${rstCode} (Internal server error)`,
          metadata,
        };
      }
      if (error.code === "ECONNRESET" || error.code === "ETIMEDOUT") {
        return { code: Status.UNAVAILABLE, details: error.message, metadata };
      }
      return {
        code: Status.INTERNAL,
        details: `Received RST_STREAM with code ${rstCode} triggered by internal client error: ${error.message}`,
        metadata,
      };
    }
    default:
      return { code: Status.INTERNAL, details: `Received RST_STREAM with code ${rstCode}`, metadata };
  }
}

const TIMEOUT_UNITS: readonly [string, number][] = [
  ["m", 1],
  ["S", 1_000],
  ["M", 60_000],
  ["H", 3_600_000],
];

/**
 * @internal
 * `grpc-timeout` for a deadline `deadlineMs` (absolute, ms) at `now`: the
 * time left, rounded up, in the smallest unit that fits gRPC's 8 digits (as
 * grpc-js writes it). A deadline already past sends `0m`: the server fails it.
 */
export function timeoutHeader(deadlineMs: number, now: number): string {
  const left = Math.max(deadlineMs - now, 0);
  for (const [unit, factor] of TIMEOUT_UNITS) {
    const amount = Math.ceil(left / factor);
    if (amount < 1e8) return `${amount}${unit}`;
  }
  return "99999999H";
}
