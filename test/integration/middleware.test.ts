import { setTimeout as delay } from "node:timers/promises";
import {
  ServerCredentials as GrpcServerCredentials,
  Server,
  type ServerUnaryCall,
  type sendUnaryData,
} from "@grpc/grpc-js";
import {
  ClientError,
  type ClientMiddleware,
  InvalidOptionError,
  pool,
  type RunningServer,
  ServerError,
  Status,
  service,
  startServer,
} from "balanced-grpc";
import { deadlineMiddleware as niceDeadline } from "nice-grpc-client-middleware-deadline";
import { retryMiddleware as niceRetry } from "nice-grpc-client-middleware-retry";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { GreeterDefinition, HelloReply, HelloRequest } from "../../generated/helloworld/helloworld.js";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { RouteGuideDefinition } from "../../generated/routeguide/route_guide.js";
import { createRouteGuideClient } from "../../generated/routeguide/route_guide_sdk.js";
import { freePort } from "../../harness/backend-group.js";
import { routeGuideImplementation } from "../../harness/reference/route-guide.js";

/** A server whose Greeter and GetFeature fail the first `failures` calls with UNAVAILABLE. */
let flaky: RunningServer;
let failures = 0;
let attempts = 0;

beforeAll(async () => {
  const fail = () => {
    attempts++;
    if (attempts <= failures) throw new ServerError(Status.UNAVAILABLE, `attempt ${attempts} fails`);
  };
  const routes = routeGuideImplementation();
  flaky = await startServer({
    services: [
      service(GreeterDefinition, {
        async sayHello(request) {
          fail();
          return { message: `Hello ${request.name}` };
        },
      }),
      service(RouteGuideDefinition, {
        ...routes,
        async getFeature(point, context) {
          fail();
          return routes.getFeature(point, context);
        },
      }),
    ],
  });
});
afterAll(() => flaky.shutdown());
afterEach(() => {
  failures = 0;
  attempts = 0;
});

function recorder(name: string, log: string[]): ClientMiddleware {
  return async function* record(call, options) {
    log.push(`${name}>${call.method.path}`);
    try {
      return yield* call.next(call.request, options);
    } finally {
      log.push(`${name}<`);
    }
  };
}

describe("middleware order", () => {
  test("array order is call order: first element outermost, each once per call", async () => {
    const log: string[] = [];
    const client = createGreeterClient({
      target: flaky.address,
      middleware: [recorder("a", log), recorder("b", log)],
      retry: { retryBaseDelayMs: 1 },
    });
    failures = 2;
    await expect(client.sayHello({ name: "x" })).resolves.toEqual({ message: "Hello x" });
    client.close();
    expect(attempts).toBe(3); // retried twice below the user middleware
    expect(log).toEqual(["a>/helloworld.Greeter/SayHello", "b>/helloworld.Greeter/SayHello", "b<", "a<"]);
  });

  test("streaming calls pass through user middleware", async () => {
    const log: string[] = [];
    const client = createRouteGuideClient({
      target: flaky.address,
      strategy: pool(2),
      middleware: [recorder("m", log)],
    });
    const names = [];
    for await (const f of client.listFeatures({
      lo: { latitude: 0, longitude: -800_000_000 },
      hi: { latitude: 900_000_000, longitude: 0 },
    })) {
      names.push(f.name);
    }
    client.close();
    expect(names.length).toBeGreaterThan(0);
    expect(log).toEqual(["m>/routeguide.RouteGuide/ListFeatures", "m<"]);
  });
});

describe("nice-grpc's own middleware composes on top of the engine", () => {
  test("its retry middleware (with the client's retries off)", async () => {
    const client = createGreeterClient({ target: flaky.address, retry: false, middleware: [niceRetry] });
    failures = 2;
    await expect(client.sayHello({ name: "x" }, { retryMaxAttempts: 2, retryBaseDelayMs: 1 })).resolves.toBeTruthy();
    expect(attempts).toBe(3);
    client.close();
  });

  test("its deadline middleware", async () => {
    const client = createGreeterClient({ target: flaky.address, middleware: [niceDeadline] });
    const error = await client.sayHello({ name: "x" }, { deadline: new Date(Date.now() - 1) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(Status.DEADLINE_EXCEEDED);
    client.close();
  });
});

describe("retry follows the proto", () => {
  test("an idempotent method (NO_SIDE_EFFECTS) retries by default", async () => {
    const retries: number[] = [];
    const client = createGreeterClient({ target: flaky.address, retry: { retryBaseDelayMs: 1 } });
    failures = 3;
    await expect(
      client.sayHello({ name: "x" }, { onRetryableError: (_e, attempt) => retries.push(attempt) }),
    ).resolves.toBeTruthy();
    client.close();
    expect(attempts).toBe(4);
    expect(retries).toEqual([0, 1, 2]);
  });

  test("retries stop at retryMaxAttempts", async () => {
    const client = createGreeterClient({ target: flaky.address, retry: { retryBaseDelayMs: 1, retryMaxAttempts: 1 } });
    failures = 5;
    const error = await client.sayHello({ name: "x" }).catch((e: unknown) => e);
    client.close();
    expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
    expect(attempts).toBe(2);
  });

  test("per-method defaultCallOptions win over the client's retry settings", async () => {
    const client = createGreeterClient({
      target: flaky.address,
      retry: { retryBaseDelayMs: 1, retryMaxAttempts: 5 },
      defaultCallOptions: { sayHello: { retryMaxAttempts: 0 } },
    });
    failures = 1;
    await expect(client.sayHello({ name: "x" })).rejects.toThrow(/attempt 1 fails/);
    client.close();
    expect(attempts).toBe(1);
  });

  test("a method without idempotency_level is not retried", async () => {
    const client = createRouteGuideClient({ target: flaky.address, retry: { retryBaseDelayMs: 1 } });
    failures = 1;
    const error = await client.getFeature({ latitude: 1, longitude: 1 }).catch((e: unknown) => e);
    expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
    expect(attempts).toBe(1);
    // …unless the call opts in
    failures = 2;
    attempts = 0;
    await expect(client.getFeature({ latitude: 1, longitude: 1 }, { retry: true })).resolves.toBeTruthy();
    expect(attempts).toBe(3);
    client.close();
  });

  test("retry: false turns retries off", async () => {
    const client = createGreeterClient({ target: flaky.address, retry: false });
    failures = 1;
    await expect(client.sayHello({ name: "x" })).rejects.toThrow(ClientError);
    client.close();
    expect(attempts).toBe(1);
  });

  test.each([
    [{ retryBaseDelayMs: -1 }, "retry.retryBaseDelayMs"],
    [{ retryMaxDelayMs: NaN }, "retry.retryMaxDelayMs"],
    [{ retryMaxAttempts: 1.5 }, "retry.retryMaxAttempts"],
    [true, "retry"],
  ])("bad retry settings %j are refused", (retry, option) => {
    expect(() => createGreeterClient({ target: flaky.address, retry: retry as never })).toThrow(InvalidOptionError);
    expect(() => createGreeterClient({ target: flaky.address, retry: retry as never })).toThrow(`"${option}"`);
  });

  test("bad middleware is refused", () => {
    expect(() => createGreeterClient({ target: flaky.address, middleware: [42 as never] })).toThrow(
      /"middleware\[0\]"/,
    );
  });
});

describe("deadlines", () => {
  test("one deadline covers all attempts and cuts a retry's backoff short", async () => {
    const client = createGreeterClient({
      target: flaky.address,
      retry: { retryBaseDelayMs: 10_000, retryMaxDelayMs: 10_000 },
    });
    failures = 100;
    const started = performance.now();
    const error = await client.sayHello({ name: "x" }, { deadline: 1_000 }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    client.close();
    expect((error as ClientError).code).toBe(Status.DEADLINE_EXCEEDED);
    expect(attempts).toBe(1); // the backoff (≥ 5 s) was cut, no second attempt
    expect(elapsed).toBeLessThan(4_000); // far below the shortest backoff of 5 s
  });

  describe("the server sees the deadline (grpc-timeout)", () => {
    let server: Server;
    let address: string;
    beforeAll(async () => {
      // A plain grpc-js server: nice-grpc's server context does not expose the deadline.
      server = new Server();
      server.addService(
        {
          sayHello: {
            path: "/helloworld.Greeter/SayHello",
            requestStream: false,
            responseStream: false,
            requestSerialize: (r: HelloRequest) => Buffer.from(HelloRequest.encode(r).finish()),
            requestDeserialize: (b: Buffer) => HelloRequest.decode(b),
            responseSerialize: (r: HelloReply) => Buffer.from(HelloReply.encode(r).finish()),
            responseDeserialize: (b: Buffer) => HelloReply.decode(b),
          },
        },
        {
          sayHello(call: ServerUnaryCall<HelloRequest, HelloReply>, callback: sendUnaryData<HelloReply>) {
            const deadline = call.getDeadline();
            const remaining = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now();
            const leaked = call.metadata.get("balanced-grpc-call-options").length;
            callback(null, { message: `${remaining === Infinity ? "none" : Math.round(remaining)};${leaked}` });
          },
        },
      );
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", GrpcServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
      );
      address = `127.0.0.1:${port}`;
    });
    afterAll(() => server.forceShutdown());

    const remainingOnServer = (message: string) => {
      const [remaining, leaked] = message.split(";");
      expect(leaked).toBe("0"); // the carrier header never reaches the wire
      return remaining === "none" ? Infinity : Number(remaining);
    };

    test.each([
      ["pickFirst", {}],
      ["pool(3)", { strategy: pool(3) }],
    ] as const)("per call, %s", async (_n, strategy) => {
      const client = createGreeterClient({ target: address, ...strategy });
      const { message } = await client.sayHello({ name: "x" }, { deadline: 5_000 });
      const remaining = remainingOnServer(message);
      expect(remaining).toBeGreaterThan(0);
      expect(remaining).toBeLessThanOrEqual(5_000);
      expect(remainingOnServer((await client.sayHello({ name: "x" })).message)).toBe(Infinity);
      client.close();
    });

    test("from defaultCallOptions, and as a Date", async () => {
      const client = createGreeterClient({ target: address, defaultCallOptions: { "*": { deadline: 3_000 } } });
      expect(remainingOnServer((await client.sayHello({ name: "x" })).message)).toBeLessThanOrEqual(3_000);
      const at = new Date(Date.now() + 60_000);
      const remaining = remainingOnServer((await client.sayHello({ name: "x" }, { deadline: at })).message);
      expect(remaining).toBeGreaterThan(3_000);
      expect(remaining).toBeLessThanOrEqual(60_000);
      client.close();
    });
  });
});

describe("waitForReady", () => {
  test.each([
    ["pickFirst", {}],
    ["pool(2)", { strategy: pool(2) }],
  ] as const)("waits for a server that starts late (%s)", async (_n, strategy) => {
    const port = await freePort();
    const target = `127.0.0.1:${port}`;
    const client = createGreeterClient({ target, ...strategy, retry: false });
    // Without it, a call fails at once while nothing listens.
    await expect(client.sayHello({ name: "early" }, { deadline: 5_000 })).rejects.toMatchObject({
      code: Status.UNAVAILABLE,
    });
    const call = client.sayHello({ name: "patient" }, { waitForReady: true, deadline: 20_000 });
    await delay(500);
    const late = await startServer({
      address: target,
      services: [service(GreeterDefinition, { sayHello: async (r) => ({ message: `Hello ${r.name}` }) })],
    });
    try {
      await expect(call).resolves.toEqual({ message: "Hello patient" });
    } finally {
      client.close();
      await late.shutdown();
    }
  });
});
