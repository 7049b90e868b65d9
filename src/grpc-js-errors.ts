/*
 * The failures the SDK tells apart that grpc-js reports only in a status's
 * details text: their words, and the one place each is matched. Internal to
 * the library (not exported from its entry).
 */
import { status as Status } from "@grpc/grpc-js";

/** @internal grpc-js's details for a stream the server answered with RST_STREAM REFUSED_STREAM. */
export const REFUSED_STREAM_DETAILS = "Stream refused by server";

/**
 * @internal
 * Whether a call ended because the server refused its stream unprocessed (a
 * connection closing under GOAWAY): no application code saw it.
 */
export function isRefusedStream(code: number, details: string | undefined): boolean {
  return code === Status.UNAVAILABLE && details === REFUSED_STREAM_DETAILS;
}

/** @internal grpc-js's words (and the balancer's, which say the same) when no connection could be made. */
export const NO_CONNECTION_DETAILS = "No connection established";

/** @internal Whether a call failed because no connection to any server could be made. */
export function isNoConnection(code: number, details: string): boolean {
  return code === Status.UNAVAILABLE && details.includes(NO_CONNECTION_DETAILS);
}
