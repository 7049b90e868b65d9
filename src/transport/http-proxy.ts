import { type IncomingMessage, request } from "node:http";
import { isIPv4, type Socket } from "node:net";
import type { ChannelOptions, experimental } from "@grpc/grpc-js";

type GrpcUri = experimental.GrpcUri;
type SubchannelAddress = experimental.SubchannelAddress;

/** gRPC's default port, for a target without one (what the CONNECT request names, as grpc-js's). */
const DEFAULT_PORT = 443;

/** @internal Where a connection goes through an HTTP CONNECT proxy: the server behind it, as `host:port`. */
export interface Tunnel {
  target: string;
  /** `user:password` from the proxy URL, sent as Basic `Proxy-Authorization`. */
  credentials: string | undefined;
}

/** @internal A target mapped through a proxy: the proxy is what the resolver resolves, the tunnel what each connection asks it for. */
export interface ProxiedTarget {
  uri: GrpcUri;
  tunnel: Tunnel;
}

/**
 * @internal
 * What grpc-js's channel makes of its proxy environment (`http_proxy.ts`'s
 * `mapProxyName`, not exported), so a target reaches the same server on
 * either transport: `grpc_proxy`, else `https_proxy`, else `http_proxy`, an
 * `http:` URL (port 80 by default); `no_grpc_proxy`, else `no_proxy`, lists
 * hosts (suffixes) and IPv4 CIDR ranges that go direct; unix sockets and
 * `grpc.enable_http_proxy: 0` go direct. A proxied target resolves the
 * proxy's name (`dns:`), and the proxy resolves the target's.
 */
export function proxiedTarget(uri: GrpcUri, options: ChannelOptions): ProxiedTarget | undefined {
  if ((options["grpc.enable_http_proxy"] ?? 1) === 0 || uri.scheme === "unix") return undefined;
  const proxy = proxyFromEnvironment();
  if (!proxy) return undefined;
  const hostPort = splitHostPort(uri.path);
  if (!hostPort || noProxy(hostPort.host)) return undefined;
  return {
    uri: { scheme: "dns", authority: undefined, path: proxy.address },
    tunnel: { target: `${hostOf(hostPort.host)}:${hostPort.port ?? DEFAULT_PORT}`, credentials: proxy.credentials },
  };
}

/**
 * @internal
 * A socket to `tunnel.target` through the proxy at `address`: an HTTP
 * CONNECT request, answered 200 (bytes the proxy already sent past its
 * answer are put back). Rejects naming the proxy's status or error.
 */
export function connectThroughProxy(address: SubchannelAddress, tunnel: Tunnel): Promise<Socket> {
  const headers: Record<string, string> = { Host: tunnel.target };
  if (tunnel.credentials !== undefined) {
    headers["Proxy-Authorization"] = `Basic ${Buffer.from(tunnel.credentials).toString("base64")}`;
  }
  const where = "path" in address ? { socketPath: address.path } : { host: address.host, port: address.port };
  return new Promise((resolve, reject) => {
    const connect = request({ ...where, method: "CONNECT", path: tunnel.target, headers });
    connect.once("connect", (response: IncomingMessage, socket: Socket, head: Buffer) => {
      connect.removeAllListeners();
      if (response.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`The HTTP proxy refused to connect to ${tunnel.target}: status ${response.statusCode}`));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    connect.once("error", (error: Error) => {
      connect.removeAllListeners();
      reject(new Error(`Failed to connect to the HTTP proxy: ${error.message}`));
    });
    connect.end();
  });
}

/** An IPv6 host in brackets, as a CONNECT request's authority needs it. */
function hostOf(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * @internal
 * The proxy URL the environment sets, as grpc-js looks for it: `grpc_proxy`,
 * else `https_proxy`, else `http_proxy`; undefined when none is set.
 */
export function proxyVariable(): string | undefined {
  return process.env.grpc_proxy || process.env.https_proxy || process.env.http_proxy || undefined;
}

function proxyFromEnvironment(): { address: string; credentials: string | undefined } | undefined {
  const value = proxyVariable();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined; // grpc-js logs it and goes direct
  }
  if (url.protocol !== "http:") return undefined;
  const credentials = url.username
    ? url.password
      ? decodeURIComponent(`${url.username}:${url.password}`)
      : url.username
    : undefined;
  return { address: `${url.hostname}:${url.port || "80"}`, credentials };
}

function noProxy(host: string): boolean {
  const list = process.env.no_grpc_proxy || process.env.no_proxy;
  if (!list) return false;
  return list.split(",").some((entry) => {
    const range = cidr(entry);
    if (range && isIPv4(host)) return inRange(range, host);
    return host.endsWith(entry);
  });
}

function cidr(entry: string): { ip: number; prefix: number } | undefined {
  const [ip, prefixText, extra] = entry.split("/");
  const prefix = Number.parseInt(prefixText ?? "", 10);
  if (extra !== undefined || !ip || !isIPv4(ip) || Number.isNaN(prefix) || prefix < 0 || prefix > 32) return undefined;
  return { ip: ipv4ToInt(ip), prefix };
}

function inRange(range: { ip: number; prefix: number }, host: string): boolean {
  const mask = range.prefix === 0 ? 0 : -1 << (32 - range.prefix);
  return (ipv4ToInt(host) & mask) === (range.ip & mask);
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((sum, octet) => (sum << 8) + Number.parseInt(octet, 10), 0);
}

/**
 * grpc-js's `splitHostPort`: `host`, `host:port`, `[v6]`, `[v6]:port`, or a
 * bare IPv6 address (more than one colon); undefined for anything else.
 */
function splitHostPort(path: string): { host: string; port: number | undefined } | undefined {
  if (path.startsWith("[")) {
    const bracketed = /^\[([^\]]*:[^\]]*)\](?::(\d+))?$/.exec(path);
    if (!bracketed) return undefined;
    return { host: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  }
  const parts = path.split(":");
  if (parts.length === 1) return { host: path, port: undefined };
  if (parts.length > 2) return { host: path, port: undefined };
  return /^\d+$/.test(parts[1]!) ? { host: parts[0]!, port: Number(parts[1]) } : undefined;
}
