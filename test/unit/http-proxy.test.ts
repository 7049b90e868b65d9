import { afterEach, describe, expect, test } from "vitest";
import { proxiedTarget } from "../../src/transport/http-proxy.js";

// Which targets the HTTP/2 transport sends through a proxy: the rules of
// grpc-js's mapProxyName, so a target reaches the same server on either transport.

const NAMES = ["grpc_proxy", "https_proxy", "http_proxy", "no_grpc_proxy", "no_proxy"];
const saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of NAMES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});
function environment(variables: Record<string, string>): void {
  for (const name of NAMES) delete process.env[name];
  Object.assign(process.env, variables);
}
const dns = (path: string) => ({ scheme: "dns", authority: undefined, path });

describe("proxiedTarget", () => {
  test("no proxy variable: direct", () => {
    environment({});
    expect(proxiedTarget(dns("svc:50051"), {})).toBeUndefined();
  });

  test("grpc_proxy first, then https_proxy, then http_proxy; port 80 by default; the proxy's name is resolved", () => {
    environment({ http_proxy: "http://third:3", https_proxy: "http://second" });
    expect(proxiedTarget(dns("svc:50051"), {})).toEqual({
      uri: dns("second:80"),
      tunnel: { target: "svc:50051", credentials: undefined },
    });
    environment({ grpc_proxy: "http://u:p%20w@first:8080", http_proxy: "http://third:3" });
    expect(proxiedTarget(dns("svc"), {})).toEqual({
      uri: dns("first:8080"),
      tunnel: { target: "svc:443", credentials: "u:p w" },
    });
  });

  test("an IPv6 target is bracketed in the CONNECT request", () => {
    environment({ grpc_proxy: "http://proxy:1" });
    expect(proxiedTarget({ scheme: "ipv6", path: "[::1]:50051" }, {})?.tunnel.target).toBe("[::1]:50051");
  });

  test.each([
    ["grpc.enable_http_proxy: 0", { grpc_proxy: "http://proxy:1" }, dns("svc:1"), { "grpc.enable_http_proxy": 0 }],
    ["a unix socket", { grpc_proxy: "http://proxy:1" }, { scheme: "unix", path: "/tmp/s" }, {}],
    ["a proxy URL that is not http:", { grpc_proxy: "https://proxy:1" }, dns("svc:1"), {}],
    ["a proxy URL that does not parse", { grpc_proxy: "not a url" }, dns("svc:1"), {}],
    [
      "a host suffix in no_grpc_proxy",
      { grpc_proxy: "http://p:1", no_grpc_proxy: "a.com,.internal" },
      dns("x.internal:1"),
      {},
    ],
    ["a host in no_proxy", { grpc_proxy: "http://p:1", no_proxy: "svc" }, dns("svc:1"), {}],
    [
      "an IPv4 address in a no_proxy CIDR",
      { grpc_proxy: "http://p:1", no_proxy: "10.1.0.0/16" },
      dns("10.1.2.3:1"),
      {},
    ],
  ])("direct: %s", (_what, variables, uri, options) => {
    environment(variables);
    expect(proxiedTarget(uri, options)).toBeUndefined();
  });

  test("no_grpc_proxy wins over no_proxy; an address outside the CIDR goes through the proxy", () => {
    environment({ grpc_proxy: "http://p:1", no_grpc_proxy: "10.1.0.0/16", no_proxy: "10.2.3.4" });
    expect(proxiedTarget(dns("10.2.3.4:1"), {})).toBeDefined();
    expect(proxiedTarget(dns("10.1.200.1:1"), {})).toBeUndefined();
  });
});
