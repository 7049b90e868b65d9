import { isIP } from "node:net";
import { shorten } from "./describe-value.js";
import { InvalidOptionError } from "./errors.js";

/** A part of the target quoted in a message: the value itself is shown (shortened) by the error. */
const short = (part: string) => shorten(part, 40);

/** The URI schemes grpc-js resolves. A target without one is a `dns:` name. */
const SCHEMES = new Set(["dns", "ipv4", "ipv6", "unix", "unix-abstract"]);

const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

/**
 * Checks a grpc-js target and returns it unchanged. grpc-js accepts garbage
 * (`"not a target"`, `"localhost:99999"`) and fails only when it resolves; the
 * SDK refuses it when the client is made.
 *
 * Accepted forms: `host:port`, `dns:///host:port`, `dns://dns-server[:port]/host:port`,
 * `ipv4:a.b.c.d:port[,…]`, `ipv6:[addr]:port[,…]`, `unix:path`, `unix:///abs/path`,
 * `unix-abstract:name`. A missing port means 443, as in grpc-js.
 */
export function validateTarget(target: unknown): string {
  const fail = (expected: string): never => {
    throw new InvalidOptionError("target", target, expected);
  };
  if (typeof target !== "string" || target.length === 0) fail('expected a non-empty string such as "host:port"');
  const value = target as string;
  if (/\s/.test(value)) fail("expected no white space");

  const explicit = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/.exec(value);
  const scheme = explicit?.[1]?.toLowerCase();
  if (explicit && scheme !== undefined && (SCHEMES.has(scheme) || explicit[2]!.startsWith("//"))) {
    if (!SCHEMES.has(scheme))
      fail(`expected a scheme grpc-js resolves (${[...SCHEMES].join(", ")}), not "${short(scheme)}:"`);
    const rest = explicit[2]!;
    const problem = checkScheme(scheme, rest);
    if (problem) fail(problem);
    return value;
  }
  const problem = checkHostPort(value, { bracketsOptional: false });
  if (problem) fail(problem);
  return value;
}

function checkScheme(scheme: string, rest: string): string | undefined {
  switch (scheme) {
    case "dns": {
      // dns:[//authority/]host[:port]
      let name = rest;
      if (rest.startsWith("//")) {
        const slash = rest.indexOf("/", 2);
        if (slash < 0) return `expected "dns://[dns-server]/host:port"`;
        const authority = rest.slice(2, slash);
        if (authority !== "") {
          const problem = checkHostPort(authority, { bracketsOptional: false });
          if (problem) return `DNS server "${short(authority)}": ${problem}`;
        }
        name = rest.slice(slash + 1);
      }
      return checkHostPort(name, { bracketsOptional: false });
    }
    case "ipv4":
    case "ipv6": {
      const family = scheme === "ipv4" ? 4 : 6;
      if (rest === "") return `expected "${scheme}:" followed by comma-separated addresses`;
      for (const address of rest.split(",")) {
        const problem = checkHostPort(address, { bracketsOptional: family === 6 });
        if (problem) return `address "${short(address)}": ${problem}`;
        const host = splitHostPort(address)?.host ?? address;
        if (isIP(host) !== family) return `address "${short(address)}": expected an IPv${family} address`;
      }
      return undefined;
    }
    default: // unix, unix-abstract
      return rest === "" || rest === "///" ? `expected a socket path after "${scheme}:"` : undefined;
  }
}

interface HostPort {
  host: string;
  port: string | undefined;
}

function splitHostPort(value: string): HostPort | undefined {
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 0) return undefined;
    const after = value.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) return undefined;
    return { host: value.slice(1, close), port: after === "" ? undefined : after.slice(1) };
  }
  const colons = value.split(":").length - 1;
  if (colons === 0) return { host: value, port: undefined };
  if (colons === 1) {
    const [host, port] = value.split(":") as [string, string];
    return { host, port };
  }
  return undefined; // a bare IPv6 address with more than one colon
}

function checkHostPort(value: string, { bracketsOptional }: { bracketsOptional: boolean }): string | undefined {
  const parts = splitHostPort(value);
  if (!parts) {
    if (bracketsOptional && isIP(value) === 6) return undefined;
    return `expected "host:port" (an IPv6 address goes in brackets: "[::1]:50051")`;
  }
  const { host, port } = parts;
  if (host === "") return `expected a host name before the port`;
  if (host.length > 253) return `expected a host name of at most 253 characters (DNS's limit), not ${host.length}`;
  if (isIP(host) === 0 && !HOSTNAME.test(host)) return `expected a valid host name, not "${short(host)}"`;
  if (port !== undefined) {
    if (!/^[0-9]+$/.test(port)) return `expected a numeric port, not "${short(port)}"`;
    const n = Number(port);
    if (n < 1 || n > 65535) return `expected a port from 1 to 65535, not ${short(port)}`;
  }
  return undefined;
}
