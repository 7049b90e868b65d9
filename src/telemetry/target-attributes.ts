/**
 * @internal
 * `server.address` and `server.port` of a target, as OpenTelemetry's RPC
 * conventions want them for a call's span: the logical server the client
 * was told to reach (`dns:///orders.internal:443` → `orders.internal`, 443).
 * A static list (`ipv4:a:p,b:p`) names several servers: its first one stands
 * for it (the attempt spans name the backend each attempt really reached);
 * `unix:` targets give the path and no port.
 */
export function targetAttributes(target: string): { "server.address": string; "server.port"?: number } {
  let rest = target;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(rest);
  if (scheme && !/^\d+$/.test(rest.slice(scheme[0].length).split(/[,/]/)[0] ?? "")) {
    const name = scheme[1]!.toLowerCase();
    rest = rest.slice(scheme[0].length);
    if (name === "unix" || name === "unix-abstract") return { "server.address": rest.replace(/^\/\//, "") };
    if (rest.startsWith("//")) rest = rest.slice(2).replace(/^[^/]*\//, ""); // dns://authority/host:port
  }
  const first = rest.split(",")[0] ?? rest;
  const hostPort = /^\[([^\]]+)\](?::(\d+))?$/.exec(first) ?? /^([^:]+)(?::(\d+))?$/.exec(first);
  if (!hostPort) return { "server.address": first };
  const port = hostPort[2] === undefined ? 443 : Number(hostPort[2]);
  return { "server.address": hostPort[1]!, "server.port": port };
}

/** @internal The host and port of a peer as grpc-js gives it (`127.0.0.2:50051`, `[::1]:50051`). */
export function peerAttributes(peer: string): { "network.peer.address"?: string; "network.peer.port"?: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(peer) ?? /^([^:]+):(\d+)$/.exec(peer);
  if (!match) return peer ? { "network.peer.address": peer } : {};
  return { "network.peer.address": match[1]!, "network.peer.port": Number(match[2]) };
}
