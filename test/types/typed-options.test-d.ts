// Compile-time checks of the public types, run by vitest's type checker
// (`npm test` runs it as the "types" project): a wrong type fails a test.
import {
  type BalancedChannel,
  type ClientError,
  type ClientOptions,
  type ConnectionStats,
  pool,
  type SdkCallOptions,
  Status,
  type Strategy,
} from "balanced-grpc";
import { describe, expectTypeOf, test } from "vitest";
import type { HelloReply } from "../../generated/helloworld/helloworld.js";
import { createGreeterClient, type GreeterSdkClient } from "../../generated/helloworld/helloworld_sdk.js";
import type { Feature, RouteNote } from "../../generated/routeguide/route_guide.js";
import { createRouteGuideClient } from "../../generated/routeguide/route_guide_sdk.js";

describe("generated clients", () => {
  test("methods are typed by the proto: partial requests in, messages out", () => {
    const client = createGreeterClient({ target: "127.0.0.1:50051" });
    expectTypeOf(client).toEqualTypeOf<GreeterSdkClient>();
    expectTypeOf(client.sayHello).parameter(0).toEqualTypeOf<{ name?: string }>();
    expectTypeOf(client.sayHello).returns.toEqualTypeOf<Promise<HelloReply>>();
    expectTypeOf(client.$channel).toEqualTypeOf<BalancedChannel>();
    expectTypeOf(client.$channel.stats()).toEqualTypeOf<ConnectionStats[]>();
    // @ts-expect-error name is a string
    client.sayHello({ name: 1 });
    // @ts-expect-error Greeter has no sayHelo
    client.sayHelo;
  });

  test("streaming methods: async iterables in and out", () => {
    const routes = createRouteGuideClient({ target: "t:1" });
    expectTypeOf(routes.listFeatures({})).toEqualTypeOf<AsyncIterable<Feature>>();
    expectTypeOf(routes.recordRoute).parameter(0).toMatchTypeOf<AsyncIterable<{ latitude?: number }>>();
    expectTypeOf(routes.routeChat).returns.toEqualTypeOf<AsyncIterable<RouteNote>>();
  });
});

describe("call options", () => {
  test("the SDK's options beside nice-grpc's, and nothing else", () => {
    const client = createGreeterClient({ target: "t:1" });
    client.sayHello(
      { name: "x" },
      { deadline: 500, retry: true, waitForReady: true, signal: new AbortController().signal },
    );
    client.sayHello({}, { deadline: new Date(), retryMaxAttempts: Infinity, retryableStatuses: [Status.UNAVAILABLE] });
    expectTypeOf<SdkCallOptions["deadline"]>().toEqualTypeOf<Date | number | undefined>();
    expectTypeOf<NonNullable<SdkCallOptions["onRetryableError"]>>().parameter(0).toEqualTypeOf<ClientError>();
    // @ts-expect-error misspelled option
    client.sayHello({ name: "x" }, { retyr: true });
    // @ts-expect-error deadline is a Date or ms
    client.sayHello({ name: "x" }, { deadline: "soon" });
    // @ts-expect-error waitForReady is a boolean
    client.sayHello({ name: "x" }, { waitForReady: "yes" });
  });

  test("defaultCallOptions are keyed by the service's methods", () => {
    createGreeterClient({
      target: "127.0.0.1:50051",
      defaultCallOptions: {
        "*": { deadline: 1_000 },
        sayHello: { retryMaxAttempts: 3, waitForReady: true },
        // @ts-expect-error Greeter has no method sayHelo
        sayHelo: { deadline: 5 },
      },
    });
    createRouteGuideClient({ target: "t:1", defaultCallOptions: { listFeatures: { deadline: 1 } } });
  });
});

describe("client options", () => {
  test("strategy as a value or a name; size and pick only with pool", () => {
    expectTypeOf(pool(2)).toMatchTypeOf<Strategy>();
    createGreeterClient({ target: "t:1", strategy: "pool", size: 4, pick: "roundRobin" });
    createGreeterClient({
      target: "t:1",
      strategy: pool(4, { pick: "p2c" }),
      maxConnectionAge: 30_000,
      outlierDetection: true,
    });
    createGreeterClient({ target: "t:1", outlierDetection: { intervalMs: 2_000, failurePercentageThreshold: 50 } });
    // @ts-expect-error size needs strategy "pool"
    createGreeterClient({ target: "t:1", size: 4 });
    // "pool" without a size sizes itself, and takes pool()'s settings.
    createGreeterClient({ target: "t:1", strategy: "pool" });
    createGreeterClient({ target: "t:1", strategy: "pool", max: 8, idleMs: 5_000, streamsPerConnection: 100 });
    createGreeterClient({ target: "t:1", strategy: pool({ min: 2, max: 8, pick: "roundRobin" }) });
    expectTypeOf(pool()).toMatchTypeOf<Strategy>();
    // @ts-expect-error min and max only without a size
    createGreeterClient({ target: "t:1", strategy: "pool", size: 4, max: 8 });
    // @ts-expect-error pool settings only with strategy "pool"
    createGreeterClient({ target: "t:1", strategy: "roundRobin", max: 8 });
    // @ts-expect-error unknown strategy name
    createGreeterClient({ target: "t:1", strategy: "random" });
    // @ts-expect-error target is required
    createGreeterClient({ strategy: pool(2) });
    // @ts-expect-error maxConnectionAge is ms
    createGreeterClient({ target: "t:1", maxConnectionAge: "30s" });
    expectTypeOf<ClientOptions["retry"]>().toMatchTypeOf<object | false | undefined>();
  });

  test("errors are nice-grpc's", () => {
    expectTypeOf<ClientError["code"]>().toEqualTypeOf<Status>();
  });
});
