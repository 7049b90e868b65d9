/*
 * The `address` a server listens on, and the address it reports once bound.
 *
 * grpc-js binds a port-less address to 443 and accepts schemes; the report
 * used to cut the last character off `localhost` (`localhos:443`). The SDK
 * takes `host:port` only, so the reported `host:port` is always a target a
 * client can use.
 *
 * Internal to the library (not exported from its entry).
 */
import { isIP } from "node:net";
import { InvalidOptionError } from "./errors.js";

/** A DNS name: letters, digits, `-` and `_` in dot-separated labels. */
const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/;

const EXPECTED = 'expected "host:port" (port 0 picks a free one), e.g. "127.0.0.1:0", "0.0.0.0:50051" or "[::1]:50051"';

export interface ServerAddress {
  /** The host as given, without IPv6 brackets. */
  host: string;
  /** The port asked for; 0 means any free port. */
  port: number;
}

/** Parses `host:port`, `[ipv6]:port`; anything else is an {@link InvalidOptionError} naming `address`. */
export function parseServerAddress(address: unknown): ServerAddress {
  const fail = (why: string): never => {
    throw new InvalidOptionError("address", address, why === "" ? EXPECTED : `${EXPECTED}; ${why}`);
  };
  if (typeof address !== "string" || address === "") return fail("");
  if (/\s/.test(address)) return fail("no white space");
  if (/^(dns|unix|unix-abstract|ipv4|ipv6|vsock|https?|grpcs?):/i.test(address)) {
    return fail("startServer listens on TCP only, without a scheme");
  }
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(address);
  const plain = /^([^:[\]]*):([^:]*)$/.exec(address);
  const [, host = "", port = ""] = bracketed ?? plain ?? [];
  if (!bracketed && !plain) {
    if (isIP(address) === 6) return fail("an IPv6 address goes in brackets");
    return fail(address.includes(":") ? "" : "the port is missing (grpc-js would pick 443)");
  }
  if (bracketed && isIP(host) !== 6) return fail("brackets hold an IPv6 address");
  if (host === "") return fail('the host is missing: "0.0.0.0:port" or "[::]:port" listen on every interface');
  if (!bracketed && isIP(host) === 0 && !isHostName(host)) return fail("the host is not a valid host name");
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) return fail("the port is a number from 0 to 65535");
  return { host, port: Number(port) };
}

/** A DNS name: at most 253 characters, labels of at most 63 (RFC 1035). */
function isHostName(host: string): boolean {
  return host.length <= 253 && HOSTNAME.test(host) && host.split(".").every((label) => label.length <= 63);
}

/** `host:port` as a client target: IPv6 hosts in brackets. */
export function formatServerAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
