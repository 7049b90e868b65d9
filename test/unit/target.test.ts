import { describe, expect, test } from "vitest";
import { InvalidOptionError } from "../../src/errors.js";
import { validateTarget } from "../../src/target.js";

describe("validateTarget", () => {
  test.each([
    "localhost:50051",
    "greeter",
    "greeter.internal:50051",
    "my_host-1.example.com.:443",
    "dns:///greeter.internal:50051",
    "dns://127.0.0.1:5353/greeter.test:50051",
    "dns://[::1]:53/greeter:1",
    "dns:greeter:443",
    "127.0.0.1:50051",
    "[::1]:50051",
    "[::1]",
    "ipv4:127.0.0.1:50051,127.0.0.2:50051",
    "ipv4:10.0.0.1",
    "ipv6:[::1]:50051,::1",
    "unix:/tmp/greeter.sock",
    "unix:///tmp/greeter.sock",
    "unix-abstract:greeter",
    "DNS:///greeter:1",
  ])("accepts %j and returns it unchanged", (target) => {
    expect(validateTarget(target)).toBe(target);
  });

  test.each([
    [undefined, "non-empty string"],
    [42, "non-empty string"],
    ["", "non-empty string"],
    ["a b:1", "white space"],
    ["greeter:", "numeric port"],
    ["greeter:http", "numeric port"],
    ["greeter:0", "from 1 to 65535"],
    ["greeter:65536", "from 1 to 65535"],
    ["http://greeter", 'not "http:"'],
    ["dns://", 'expected "dns://[dns-server]/host:port"'],
    ["dns://x:y/greeter:1", 'DNS server "x:y"'],
    ["ipv4:", "addresses"],
    ["ipv4:::1", `address "::1"`],
    ["ipv4:300.0.0.1:1", "IPv4 address"],
    ["ipv6:10.0.0.1:1", "IPv6 address"],
    ["unix:", "socket path"],
    ["-greeter:1", "valid host name"],
    ["::1", "brackets"],
    ["[::1", "brackets"],
  ])("refuses %j: %s", (target, reason) => {
    let error: unknown;
    try {
      validateTarget(target);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe("target");
    expect((error as Error).message).toContain(reason);
  });
});
