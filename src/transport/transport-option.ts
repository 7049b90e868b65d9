import type { ChannelOptions } from "@grpc/grpc-js";
import { checkOneOf } from "../check.js";
import { DEFAULT_TRANSPORT } from "../defaults.js";
import { InvalidOptionError } from "../errors.js";

/**
 * How a client's calls reach the wire: `"grpc-js"`, grpc-js's channel
 * (resolving, load-balancing, retry and subchannel calls, then its HTTP/2
 * transport); `"http2"`, the SDK's own transport straight on `node:http2`
 * under the same balancer (experimental: see docs/transport.md).
 */
export type TransportName = "grpc-js" | "http2";

/** The transports a client may run its calls on. */
const TRANSPORTS: readonly TransportName[] = ["grpc-js", "http2"];

/**
 * @internal
 * The `transport` option, checked. `"http2"` does not tunnel through an HTTP
 * CONNECT proxy yet: while grpc-js would use one (its proxy environment
 * variables), it is refused here rather than connect around the proxy.
 */
export function resolveTransport(value: unknown, channelOptions: ChannelOptions): TransportName {
  const transport = checkOneOf("transport", value ?? DEFAULT_TRANSPORT, TRANSPORTS);
  if (transport === "http2" && channelOptions["grpc.enable_http_proxy"] !== 0) {
    const proxy = ["grpc_proxy", "https_proxy", "http_proxy"].find((name) => process.env[name]);
    if (proxy) {
      throw new InvalidOptionError(
        "transport",
        value,
        `expected "grpc-js" while an HTTP proxy is set (${proxy}): the http2 transport does not tunnel through proxies yet`,
      );
    }
  }
  return transport;
}
