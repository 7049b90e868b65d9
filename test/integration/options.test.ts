import { type ClientOptions, createBalancedChannel, InvalidOptionError, pool, validateTarget } from "balanced-grpc";
import { describe, expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";

/** Expects an InvalidOptionError whose message names the option and the value. */
function expectInvalid(make: () => unknown, option: string, shown: string): void {
  let caught: unknown;
  try {
    const made = make() as { close?: () => void } | undefined;
    made?.close?.();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidOptionError);
  const error = caught as InvalidOptionError;
  expect(error.option).toBe(option);
  expect(error.message).toContain(`"${option}"`);
  expect(error.message).toContain(shown);
}

describe("pool(n) rejects sizes that are not whole numbers from 1", () => {
  test.each([
    [0, "0"],
    [-3, "-3"],
    [2.5, "2.5"],
    [NaN, "NaN"],
    [Infinity, "Infinity"],
    [1025, "1025"],
  ])("pool(%s)", (size, shown) => {
    expectInvalid(() => pool(size), "size", shown);
  });

  test("accepts 1 and 1024", () => {
    expect(pool(1).size).toBe(1);
    expect(pool(1024).size).toBe(1024);
  });

  test("rejects an unknown pick", () => {
    expectInvalid(() => pool(2, { pick: "random" as never }), "pick", "'random'");
  });
});

describe("client options", () => {
  const target = "127.0.0.1:50051";
  const make = (options: unknown) => () => createGreeterClient(options as ClientOptions);

  test("unknown strategy name", () => {
    expectInvalid(make({ target, strategy: "leastRequest" }), "strategy", "'leastRequest'");
  });
  test("a strategy that is not one", () => {
    expectInvalid(make({ target, strategy: { kind: "random" } }), "strategy", "an object { kind }");
  });
  test('"pool" without size is the adaptive pool (issue 19), and its fields are checked', () => {
    const client = createGreeterClient({ target, strategy: "pool" });
    client.close();
    expectInvalid(make({ target, strategy: "pool", min: 0 } as never), "pool.min", "0");
  });
  test('"pool" with a bad size', () => {
    expectInvalid(make({ target, strategy: "pool", size: 0 }), "size", "0");
    expectInvalid(make({ target, strategy: "pool", size: "10" }), "size", "'10'");
  });
  test("size with another strategy", () => {
    expectInvalid(make({ target, strategy: "roundRobin", size: 4 }), "size", "4");
    expectInvalid(make({ target, size: 4 }), "size", "4");
  });
  test("pick without pool", () => {
    expectInvalid(make({ target, strategy: "roundRobin", pick: "p2c" }), "pick", "'p2c'");
  });
  test("options that are not an object", () => {
    expectInvalid(make(undefined), "options", "undefined");
  });
  test("channelOptions that are not an object", () => {
    expectInvalid(make({ target, channelOptions: "fast" }), "channelOptions", "'fast'");
  });
  test("a service config that is not JSON", () => {
    expectInvalid(
      make({ target, channelOptions: { "grpc.service_config": "{" } }),
      'channelOptions["grpc.service_config"]',
      "'{'",
    );
  });
  test("the same checks hold for createBalancedChannel", () => {
    expectInvalid(() => createBalancedChannel("", pool(2)), "target", "''");
    expectInvalid(() => createBalancedChannel(target, { kind: "pool", size: -1, pick: "p2c" }), "size", "-1");
  });
});

describe("targets", () => {
  test.each([
    ["", "non-empty"],
    ["dns:///greeter:notaport", "numeric port"],
    ["localhost:99999", "from 1 to 65535"],
    ["localhost:0", "from 1 to 65535"],
    ["not a target", "white space"],
    [" localhost:50051", "white space"],
    ["http://greeter:80", 'not "http:"'],
    ["grpc://greeter:50051", 'not "grpc:"'],
    ["dns://8.8.8.8:notaport/greeter:50051", 'DNS server "8.8.8.8:notaport"'],
    ["dns:///", "host name"],
    ["ipv4:", "addresses"],
    ["ipv4:127.0.0.1:1,300.0.0.1:2", "IPv4 address"],
    ["ipv4:::1", `address "::1"`],
    ["ipv6:127.0.0.1:50051", "IPv6 address"],
    ["unix:", "socket path"],
    ["greeter_!:50051", "valid host name"],
    ["::1", "brackets"],
  ])("rejects %j", (target, reason) => {
    expectInvalid(() => createGreeterClient({ target }), "target", reason);
  });

  test("rejects a target that is not a string", () => {
    expectInvalid(() => createGreeterClient({ target: 50051 as never }), "target", "50051");
  });

  test.each([
    "localhost:50051",
    "greeter.internal:50051",
    "greeter",
    "dns:///greeter.internal:50051",
    "dns://127.0.0.1:5353/greeter.test:50051",
    "dns:greeter:443",
    "127.0.0.1:50051",
    "[::1]:50051",
    "ipv4:127.0.0.1:50051,127.0.0.2:50051",
    "ipv6:[::1]:50051,::1",
    "unix:/tmp/greeter.sock",
    "unix:///tmp/greeter.sock",
    "unix-abstract:greeter",
  ])("accepts %j", (target) => {
    expect(validateTarget(target)).toBe(target);
    createGreeterClient({ target }).close();
  });
});
