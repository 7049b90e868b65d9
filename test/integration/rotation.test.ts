import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import type { Point } from "../../generated/routeguide/route_guide.js";
import { createRouteGuideClient } from "../../generated/routeguide/route_guide_sdk.js";
import { type InProcessBackends as Backends, startBackends } from "../../harness/backend-group.js";
import { runCalls } from "../../harness/load.js";
import { ROUTE_GUIDE_FEATURES } from "../../harness/reference/route-guide-features.js";
import { strategies } from "../../harness/strategies.js";

// Servers close every connection after ~200 ms (grace 1 s) while calls run.
// `npm run bench:rotation` runs the full 30,000 calls at c=100.
let backends: Backends;
beforeAll(async () => {
  backends = await startBackends(3, {
    maxConnectionAge: 200,
    maxConnectionAgeGrace: 1_000,
  });
});
afterAll(() => backends.shutdown());

describe.each(strategies(4))("connections rotating every 200 ms, %s", (name, strategy) => {
  test("5,000 unary calls at c=50: 0 failures, with the retry middleware off", async () => {
    // retry: false: what keeps the count at zero is the channel sending
    // refused (never processed) streams again, which is safe for any method.
    const client = createGreeterClient({ target: backends.target, strategy, retry: false });
    const { ok, failed } = await runCalls(5_000, 50, () => client.sayHello({ name: "rotate" }));
    const replays = client.$channel.refusedStreamReplays;
    client.close();
    console.log(`${name}: ${ok} ok, ${failed.length} failed, ${replays} refused streams sent again`);
    expect(failed).toEqual([]);
  });

  test("a non-idempotent client stream (RecordRoute): 0 failures", async () => {
    const client = createRouteGuideClient({ target: backends.target, strategy });
    const route = ROUTE_GUIDE_FEATURES.slice(0, 3).map((f) => f.location!);
    async function* points(): AsyncIterable<Point> {
      yield* route;
    }
    const { failed } = await runCalls(1_500, 30, async () => {
      const summary = await client.recordRoute(points());
      expect(summary.pointCount).toBe(3);
    });
    client.close();
    expect(failed).toEqual([]);
  });
});
