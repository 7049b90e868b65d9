import { checkOneOf } from "../check.js";
import { DEFAULT_TRANSPORT } from "../defaults.js";

/**
 * How a client's calls reach the wire: `"grpc-js"`, grpc-js's channel
 * (resolving, load-balancing, retry and subchannel calls, then its HTTP/2
 * transport); `"http2"`, the SDK's own transport straight on `node:http2`
 * under the same balancer (experimental: see docs/transport.md).
 */
export type TransportName = "grpc-js" | "http2";

/** The transports a client may run its calls on. */
const TRANSPORTS: readonly TransportName[] = ["grpc-js", "http2"];

/** @internal The `transport` option, checked. */
export function resolveTransport(value: unknown): TransportName {
  return checkOneOf("transport", value ?? DEFAULT_TRANSPORT, TRANSPORTS);
}
