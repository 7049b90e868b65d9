import { inspect } from "node:util";
import {
  credentials,
  InvalidOptionError,
  ServerCredentials,
  type ServerOptions,
  type ServiceRegistration,
  service,
  startServer,
} from "balanced-grpc";
import { describe, expect, test } from "vitest";
import { GreeterDefinition } from "../../generated/helloworld/helloworld.js";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { RouteGuideDefinition } from "../../generated/routeguide/route_guide.js";
import { healthProbe } from "../../harness/health-probe.js";
import { greeterService } from "../../harness/reference/greeter.js";
import { routeGuideService } from "../../harness/reference/route-guide.js";

// One contract for startServer and service(): bad input rejects with an
// InvalidOptionError naming the option and describing the value briefly,
// before anything is bound; never a grpc-js TypeError at listen(), never a
// default used in silence for a misspelled key, never a user object printed.

const greeter = service(GreeterDefinition, { sayHello: async () => ({ message: "hi" }) });
const secrets = {
  dbUrl: "postgres://user:secret@db.internal:5432/routes",
  apiKey: "sk-live-0123456789abcdef",
  getFeature: async () => ({ name: "", location: undefined }),
};
const long = `${"h".repeat(10_000)}:50051`;
/** An application's own grpc.health.v1 (grpc-js definition form). */
const ownHealth = {
  definition: {
    check: {
      path: "/grpc.health.v1.Health/Check",
      requestStream: false,
      responseStream: false,
      requestSerialize: (bytes: Buffer) => bytes,
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (bytes: Buffer) => bytes,
      responseDeserialize: (bytes: Buffer) => bytes,
    },
  },
  implementation: { check: async () => Buffer.from([0x08, 0x01]) },
};

/** [row, options, option named, the message also contains…, the message must not contain…] */
const SERVER_ROWS: [string, unknown, string, string[], string[]?][] = [
  ["no options", undefined, "options", ["an object with at least services", "got undefined"]],
  ["options not an object", "127.0.0.1:0", "options", ["got '127.0.0.1:0'"]],
  ["no services", {}, "services", ["an array of service(", "got undefined"]],
  ["services not an array", { services: greeter }, "services", ["an array", "{ definition, implementation }"]],
  // address
  [
    "an address without a port",
    { services: [], address: "localhost" },
    "address",
    ["host:port", "port is missing", "443"],
  ],
  [
    "a port out of range",
    { services: [], address: "127.0.0.1:70000" },
    "address",
    ["from 0 to 65535", "'127.0.0.1:70000'"],
  ],
  ["a port that is not a number", { services: [], address: "127.0.0.1:http" }, "address", ["port is a number"]],
  ["a negative port", { services: [], address: "127.0.0.1:-1" }, "address", ["port is a number"]],
  ["no host", { services: [], address: ":50051" }, "address", ["host is missing", "0.0.0.0:port"]],
  ["a bare IPv6 address", { services: [], address: "::1" }, "address", ["in brackets"]],
  ["brackets around no IPv6 address", { services: [], address: "[localhost]:0" }, "address", ["IPv6"]],
  ["a scheme", { services: [], address: "unix:/tmp/s.sock" }, "address", ["TCP only"]],
  ["a dns: scheme", { services: [], address: "dns:///localhost:0" }, "address", ["TCP only"]],
  ["white space", { services: [], address: "local host:0" }, "address", ["white space"]],
  ["a bad host name", { services: [], address: "greeter_!:0" }, "address", ["valid host name"]],
  ["an address that is not a string", { services: [], address: 50051 }, "address", ["got 50051"]],
  [
    "a 10,000-character address",
    { services: [], address: long },
    "address",
    ["valid host name", "(10006 characters)"],
    ["h".repeat(61)],
  ],
  // unknown and misspelled keys
  [
    "a misspelled key",
    { services: [], adress: "0.0.0.0:50051" },
    "adress",
    ['did you mean "address"?', "known: address, services"],
  ],
  [
    "a key with a unit",
    { services: [], maxConnectionAgeMs: 1000 },
    "maxConnectionAgeMs",
    ['did you mean "maxConnectionAge"?'],
  ],
  ["a client option", { services: [], target: "x:1" }, "target", ["no such option in startServer options"]],
  ["two unknown keys", { services: [], port: 1, host: "x" }, "port", ["also unknown: host"]],
  [
    "a misspelled keepalive key",
    { services: [], keepalive: { timeMs: 1000, timeoutMS: 1000 } },
    "keepalive.timeoutMS",
    ['did you mean "keepalive.timeoutMs"?'],
  ],
  // credentials
  [
    "credentials: {}",
    { services: [], credentials: {} },
    "credentials",
    ["expected ServerCredentials", "got an object {}"],
  ],
  [
    "client credentials",
    { services: [], credentials: credentials.createInsecure() },
    "credentials",
    ["ServerCredentials", "an instance of"],
  ],
  ["credentials: a string", { services: [], credentials: "insecure" }, "credentials", ["got 'insecure'"]],
  // ages and keepalive
  ["maxConnectionAge 0", { services: [], maxConnectionAge: 0 }, "maxConnectionAge", ["from 1 to", "got 0"]],
  ["maxConnectionAge NaN", { services: [], maxConnectionAge: NaN }, "maxConnectionAge", ["got NaN"]],
  ["maxConnectionAge as a string", { services: [], maxConnectionAge: "30s" }, "maxConnectionAge", ["got '30s'"]],
  ["maxConnectionAge too large", { services: [], maxConnectionAge: 2 ** 31 }, "maxConnectionAge", ["2147483647"]],
  [
    "a grace without an age",
    { services: [], maxConnectionAgeGrace: 1000 },
    "maxConnectionAgeGrace",
    ["only with maxConnectionAge"],
  ],
  [
    "a negative grace",
    { services: [], maxConnectionAge: 1000, maxConnectionAgeGrace: -5 },
    "maxConnectionAgeGrace",
    ["got -5"],
  ],
  ["keepalive: true", { services: [], keepalive: true }, "keepalive", ["{ timeMs, timeoutMs }", "got true"]],
  [
    "keepalive without timeoutMs",
    { services: [], keepalive: { timeMs: 1000 } },
    "keepalive.timeoutMs",
    ["got undefined"],
  ],
  ["keepalive.timeMs 0", { services: [], keepalive: { timeMs: 0, timeoutMs: 1000 } }, "keepalive.timeMs", ["got 0"]],
  ["channelOptions not an object", { services: [], channelOptions: "fast" }, "channelOptions", ["got 'fast'"]],
  // middleware
  [
    "middleware not an array",
    { services: [], middleware: async function* log() {} },
    "middleware",
    ["an array of nice-grpc server middleware"],
  ],
  ["middleware holding a number", { services: [], middleware: [42] }, "middleware[0]", ["got 42"]],
  [
    "an async (non-generator) middleware",
    { services: [], middleware: [async function* ok() {}, async function auth() {}] },
    "middleware[1]",
    ["async function*", "got an async function auth"],
  ],
  // services
  ["a service that is not a registration", { services: [42] }, "services[0]", ["service(Definition, implementation)"]],
  ["a null service", { services: [null] }, "services[0]", ["got null"]],
  [
    "a registration without a definition",
    { services: [{ implementation: {} }] },
    "services[0].definition",
    ["a service definition", "got undefined"],
  ],
  [
    "a definition that is not one",
    { services: [{ definition: { fullName: "x" }, implementation: {} }] },
    "services[0].definition",
    ["ts-proto"],
  ],
  [
    "an empty definition",
    { services: [{ definition: {}, implementation: {} }] },
    "services[0].definition",
    ["at least one method"],
  ],
  [
    "a partial implementation: method names, no values",
    { services: [greeter, { definition: RouteGuideDefinition, implementation: secrets }] },
    "services[1].implementation",
    ["routeguide.RouteGuide", "missing: listFeatures, recordRoute, routeChat", "{ dbUrl, apiKey, getFeature }"],
    ["secret", "sk-", "postgres"],
  ],
  [
    "an implementation that is not an object",
    { services: [{ definition: GreeterDefinition, implementation: "x" }] },
    "services[0].implementation",
    ["helloworld.Greeter"],
  ],
  [
    "a method that is not a function",
    { services: [{ definition: GreeterDefinition, implementation: { sayHello: "hi" } }] },
    "services[0].implementation",
    ["missing: sayHello"],
  ],
  [
    "a service given twice",
    { services: [greeter, greeter] },
    "services[1]",
    ["each service once", "helloworld.Greeter", "services[0]"],
  ],
  // health, drain, signals
  ["health: a string", { services: [], health: "yes" }, "health", ["true or false", "got 'yes'"]],
  ["handleSignals: 1", { services: [], handleSignals: 1 }, "handleSignals", ["true or false", "got 1"]],
  ["drain: a number", { services: [], drain: 5000 }, "drain", ["{ delayMs, timeoutMs }", "got 5000"]],
  ["a negative drain delay", { services: [], drain: { delayMs: -1 } }, "drain.delayMs", ["got -1"]],
  ["a drain timeout in seconds", { services: [], drain: { timeoutMs: "30s" } }, "drain.timeoutMs", ["got '30s'"]],
  ["a misspelled drain key", { services: [], drain: { delay: 300 } }, "drain.delay", ['did you mean "drain.delayMs"?']],
  [
    "an own grpc.health.v1 beside the built-in one",
    { services: [greeter, ownHealth] },
    "services[1]",
    ["grpc.health.v1.Health", "health: false"],
  ],
];

describe("startServer refuses bad options before binding anything", () => {
  test.each(SERVER_ROWS)("%s", async (_row, options, option, contains, excludes = []) => {
    const error = await startServer(options as ServerOptions).then(
      async (server) => {
        await server.shutdown({ timeout: 0 });
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidOptionError);
    const { message } = error as InvalidOptionError;
    expect((error as InvalidOptionError).option).toBe(option);
    expect(message).toContain(`"${option}"`);
    for (const text of contains) expect(message).toContain(text);
    for (const text of excludes) expect(message).not.toContain(text);
    for (const text of excludes) expect(inspect(error)).not.toContain(text);
    expect(message.length).toBeLessThan(600);
  });
});

/** [row, definition, implementation, option named, the message contains…, must not contain…] */
const SERVICE_ROWS: [string, unknown, unknown, string, string[], string[]][] = [
  [
    "a missing method, with secrets beside it",
    RouteGuideDefinition,
    secrets,
    "implementation",
    ["routeguide.RouteGuide", "missing: listFeatures, recordRoute, routeChat", "{ dbUrl, apiKey, getFeature }"],
    ["secret", "sk-", "postgres"],
  ],
  [
    "a class instance missing a method",
    GreeterDefinition,
    new (class GreeterImpl {
      token = "sk-live-1";
    })(),
    "implementation",
    ["missing: sayHello", "an instance of GreeterImpl"],
    ["sk-"],
  ],
  ["no implementation", GreeterDefinition, undefined, "implementation", ["helloworld.Greeter", "got undefined"], []],
  ["no definition", undefined, {}, "definition", ["a service definition"], []],
  [
    "a definition's method without codecs",
    { name: "S", fullName: "p.S", methods: { m: { name: "M" } } },
    { m: () => {} },
    "definition",
    ["ts-proto"],
    [],
  ],
];

describe("service() refuses what could not be served", () => {
  test.each(SERVICE_ROWS)("%s", (_row, definition, implementation, option, contains, excludes) => {
    let error: unknown;
    try {
      service(definition as never, implementation as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    const { message } = error as InvalidOptionError;
    expect((error as InvalidOptionError).option).toBe(option);
    for (const text of contains) expect(message).toContain(text);
    for (const text of excludes) expect(message).not.toContain(text);
    for (const text of excludes) expect(inspect(error, { depth: 10 })).not.toContain(text);
  });

  test("a grpc-js style definition and a class implementation are accepted", () => {
    class Greeter {
      async sayHello() {
        return { message: "hi" };
      }
    }
    const grpcJsStyle = { sayHello: { path: "/helloworld.Greeter/SayHello", requestStream: false } };
    expect(() => service(grpcJsStyle as never, new Greeter() as never)).not.toThrow();
  });
});

describe("the reported address is a target clients can use", () => {
  test.each([
    ["127.0.0.1:0", /^127\.0\.0\.1:\d+$/, "127.0.0.1"],
    ["localhost:0", /^localhost:\d+$/, "localhost"],
    ["[::1]:0", /^\[::1\]:\d+$/, "::1"],
    ["0.0.0.0:0", /^0\.0\.0\.0:\d+$/, "0.0.0.0"],
  ])("%s", async (address, reported, host) => {
    const server = await startServer({ address, services: [greeter] });
    try {
      expect(server.address).toMatch(reported);
      expect(server.host).toBe(host);
      expect(server.port).toBeGreaterThan(0);
      expect(server.address.endsWith(`:${server.port}`)).toBe(true);
      const client = createGreeterClient({ target: server.address, retry: false });
      await expect(client.sayHello({ name: "x" }, { deadline: Date.now() + 5_000 })).resolves.toEqual({
        message: "hi",
      });
      client.close();
    } finally {
      await server.shutdown({ timeout: 1_000 });
    }
  });

  test("the reference services, with credentials and every option, start", async () => {
    const server = await startServer({
      address: "127.0.0.1:0",
      services: [greeterService(), routeGuideService()] as ServiceRegistration[],
      credentials: ServerCredentials.createInsecure(),
      middleware: [],
      maxConnectionAge: 60_000,
      maxConnectionAgeGrace: 5_000,
      keepalive: { timeMs: 10_000, timeoutMs: 5_000 },
      health: true,
      drain: { delayMs: 0, timeoutMs: 1_000 },
      handleSignals: false,
      channelOptions: { "grpc.max_receive_message_length": 1024 * 1024 },
    });
    await server.shutdown({ timeout: 1_000 });
  });

  test("with health: false, an application may serve its own grpc.health.v1", async () => {
    const server = await startServer({ services: [greeter, ownHealth as never], health: false });
    const probe = healthProbe(server.address);
    await expect(probe.check("")).resolves.toBe("SERVING");
    probe.close();
    await server.shutdown({ timeout: 0 });
  });

  test("shutdown() refuses unknown keys too", async () => {
    const server = await startServer({ services: [] });
    await expect(server.shutdown({ timeoutMs: 5 } as never)).rejects.toThrow(/"timeoutMs".*did you mean "timeout"/);
    await server.shutdown({ timeout: 0 });
  });
});
