// Compile-time checks: `npm test` runs tsc over test/ first, and an unused
// expect-error directive is itself an error, so each marked line must fail to compile.

import { pool } from "balanced-grpc";
import { expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import { createRouteGuideClient } from "../../generated/routeguide/route_guide_sdk.js";

export async function typeChecks(): Promise<void> {
  const client = createGreeterClient({
    target: "127.0.0.1:50051",
    strategy: pool(2),
    defaultCallOptions: {
      "*": { deadline: 1_000 },
      sayHello: { retryMaxAttempts: 3, waitForReady: true },
      // @ts-expect-error Greeter has no method sayHelo
      sayHelo: { deadline: 5 },
    },
  });
  await client.sayHello(
    { name: "x" },
    { deadline: 500, retry: true, waitForReady: true, signal: new AbortController().signal },
  );
  // @ts-expect-error misspelled option
  await client.sayHello({ name: "x" }, { retyr: true });
  // @ts-expect-error deadline is a Date or ms
  await client.sayHello({ name: "x" }, { deadline: "soon" });
  // @ts-expect-error waitForReady is a boolean
  await client.sayHello({ name: "x" }, { waitForReady: "yes" });
  // @ts-expect-error name is a string
  await client.sayHello({ name: 1 });

  // @ts-expect-error size needs strategy "pool"
  createGreeterClient({ target: "t:1", size: 4 });
  // @ts-expect-error "pool" needs a size
  createGreeterClient({ target: "t:1", strategy: "pool" });
  // @ts-expect-error unknown strategy name
  createGreeterClient({ target: "t:1", strategy: "random" });
  // @ts-expect-error target is required
  createGreeterClient({ strategy: pool(2) });
  createGreeterClient({ target: "t:1", strategy: "pool", size: 4, pick: "roundRobin" });

  const routes = createRouteGuideClient({ target: "t:1", defaultCallOptions: { listFeatures: { deadline: 1 } } });
  for await (const feature of routes.listFeatures({}, { deadline: 100 })) feature.name satisfies string;
}

test("the compile-time checks above are part of npm test", () => {
  expect(typeof typeChecks).toBe("function");
});
