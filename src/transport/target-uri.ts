import type { experimental } from "@grpc/grpc-js";

type GrpcUri = experimental.GrpcUri;

/** grpc-js's URI grammar for targets: `scheme:`, `//authority/`, path. */
const URI = /^(?:([A-Za-z0-9+.-]+):)?(?:\/\/([^/]*)\/)?(.+)$/;

/** The schemes grpc-js registers resolvers for (a target without one of them is a DNS name). */
const RESOLVED_SCHEMES = new Set(["dns", "ipv4", "ipv6", "unix"]);

/** @internal A target as grpc-js's channel reads it: the URI its resolver gets, and the `:authority` its calls send. */
export interface ParsedTarget {
  uri: GrpcUri;
  authority: string;
}

/**
 * @internal
 * What grpc-js's channel makes of a target (its `parseUri`,
 * `mapUriDefaultScheme` and each resolver's `getDefaultAuthority`, none of
 * them exported): a target whose scheme has no resolver is a `dns:` name
 * (`localhost:50051` is `dns:localhost:50051`); the authority is the DNS
 * name, the first address of an `ipv4:`/`ipv6:` list, or `localhost` for a
 * unix socket, unless `grpc.default_authority` says otherwise.
 */
export function parseTarget(target: string, defaultAuthority?: string): ParsedTarget {
  const match = URI.exec(target);
  let uri: GrpcUri = match ? { scheme: match[1], authority: match[2], path: match[3]! } : { path: target };
  if (uri.scheme === undefined || !RESOLVED_SCHEMES.has(uri.scheme)) {
    uri = { scheme: "dns", authority: undefined, path: target };
  }
  return { uri, authority: defaultAuthority ?? authorityOf(uri) };
}

function authorityOf(uri: GrpcUri): string {
  switch (uri.scheme) {
    case "unix":
      return "localhost";
    case "ipv4":
    case "ipv6":
      return uri.path.split(",")[0]!;
    default:
      return uri.path;
  }
}
