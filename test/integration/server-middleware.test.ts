import {
  type CallContext,
  ClientError,
  Metadata,
  type RunningServer,
  ServerError,
  type ServerMiddleware,
  type ServerMiddlewareCall,
  type ServiceRegistration,
  Status,
  startServer,
} from "balanced-grpc";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { createRouteGuideClient } from "../../generated/routeguide/route_guide_sdk.js";
import { greeterService } from "../../harness/reference/greeter.js";
import { routeGuideService } from "../../harness/reference/route-guide.js";

// startServer({ middleware }) runs nice-grpc server middleware in array order,
// the first outermost, around every call of every service, and a middleware's
// ServerError reaches the client as that status.

/** Logs `name>path` before the call and `name<` after it (after the last message of a stream). */
function recorder(name: string, log: string[]): ServerMiddleware {
  return async function* record<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ) {
    log.push(`${name}>${call.method.path}`);
    try {
      return yield* call.next(call.request, context);
    } finally {
      log.push(`${name}<`);
    }
  };
}

/** Refuses calls whose `authorization` header is not `let-me-in`, as an auth middleware would. */
const auth: ServerMiddleware = async function* auth<Request, Response>(
  call: ServerMiddlewareCall<Request, Response>,
  context: CallContext,
) {
  if (context.metadata.get("authorization") !== "let-me-in") {
    throw new ServerError(Status.UNAUTHENTICATED, "no valid authorization header");
  }
  return yield* call.next(call.request, context);
};

const services = [greeterService(), routeGuideService()] as ServiceRegistration[];
const rectangle = {
  lo: { latitude: 400_000_000, longitude: -750_000_000 },
  hi: { latitude: 420_000_000, longitude: -730_000_000 },
};
const deadline = () => Date.now() + 10_000;

describe("two middleware, in array order", () => {
  const log: string[] = [];
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      address: "127.0.0.1:0",
      services,
      middleware: [recorder("a", log), recorder("b", log)],
    });
  });
  afterAll(() => server.shutdown({ timeout: 1_000 }));

  test("a unary call: the first is outermost", async () => {
    log.length = 0;
    const client = createGreeterClient({ target: server.address, retry: false });
    await expect(client.sayHello({ name: "x" }, { deadline: deadline() })).resolves.toMatchObject({
      message: "Hello x",
    });
    client.close();
    expect(log).toEqual(["a>/helloworld.Greeter/SayHello", "b>/helloworld.Greeter/SayHello", "b<", "a<"]);
  });

  test("a server stream: both see it, around all its messages", async () => {
    log.length = 0;
    const client = createRouteGuideClient({ target: server.address, retry: false });
    const names: string[] = [];
    for await (const feature of client.listFeatures(rectangle, { deadline: deadline() })) names.push(feature.name);
    client.close();
    expect(names.length).toBeGreaterThan(1);
    expect(log).toEqual(["a>/routeguide.RouteGuide/ListFeatures", "b>/routeguide.RouteGuide/ListFeatures", "b<", "a<"]);
  });

  test("each call is seen once by each middleware", async () => {
    log.length = 0;
    const client = createGreeterClient({ target: server.address, retry: false });
    await Promise.all([1, 2, 3].map((i) => client.sayHello({ name: `${i}` }, { deadline: deadline() })));
    client.close();
    expect(log.filter((l) => l.startsWith("a>"))).toHaveLength(3);
    expect(log.filter((l) => l.startsWith("b>"))).toHaveLength(3);
    expect(log.filter((l) => l === "a<" || l === "b<")).toHaveLength(6);
  });
});

describe("a middleware's ServerError reaches the client", () => {
  const log: string[] = [];
  let server: RunningServer;
  beforeAll(async () => {
    // The recorder outside auth sees refused calls too; the one inside does not.
    server = await startServer({ services, middleware: [recorder("outer", log), auth, recorder("inner", log)] });
  });
  afterAll(() => server.shutdown({ timeout: 1_000 }));

  const withAuth = (value: string) => ({ metadata: Metadata({ authorization: value }), deadline: deadline() });

  test("unary: refused with its status, allowed through with the header", async () => {
    log.length = 0;
    const client = createGreeterClient({ target: server.address, retry: false });
    const error = await client.sayHello({ name: "x" }, withAuth("guess")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(Status.UNAUTHENTICATED);
    expect((error as ClientError).details).toBe("no valid authorization header");
    expect(log).toEqual(["outer>/helloworld.Greeter/SayHello", "outer<"]);

    await expect(client.sayHello({ name: "y" }, withAuth("let-me-in"))).resolves.toMatchObject({ message: "Hello y" });
    client.close();
  });

  test("server stream: refused with its status before any message", async () => {
    const client = createRouteGuideClient({ target: server.address, retry: false });
    const received: string[] = [];
    const error = await (async () => {
      for await (const feature of client.listFeatures(rectangle, withAuth("guess"))) received.push(feature.name);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(Status.UNAUTHENTICATED);
    expect(received).toEqual([]);

    for await (const feature of client.listFeatures(rectangle, withAuth("let-me-in"))) received.push(feature.name);
    expect(received.length).toBeGreaterThan(1);
    client.close();
  });
});
