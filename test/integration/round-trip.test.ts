import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createGreeterClient } from "../../generated/helloworld/helloworld_sdk.js";
import type { Point, RouteNote } from "../../generated/routeguide/route_guide.js";
import { createRouteGuideClient } from "../../generated/routeguide/route_guide_sdk.js";
import { type InProcessBackends as Backends, startBackends } from "../../harness/backend-group.js";
import { ROUTE_GUIDE_FEATURES } from "../../harness/reference/route-guide-features.js";
import { strategies } from "../../harness/strategies.js";

let backends: Backends;

beforeAll(async () => {
  backends = await startBackends(1);
});
afterAll(() => backends.shutdown());

describe.each(strategies(4).map(([name, strategy], i) => [name, strategy, i + 1] as const))(
  "through %s",
  (_name, strategy, chatPoint) => {
    test("Greeter.SayHello", async () => {
      const client = createGreeterClient({ target: backends.addresses[0]!, strategy });
      try {
        expect(await client.sayHello({ name: "world" })).toEqual({ message: "Hello world" });
      } finally {
        client.close();
      }
    });

    test("RouteGuide: all four call kinds", async () => {
      const client = createRouteGuideClient({ target: backends.addresses[0]!, strategy });
      try {
        const known = ROUTE_GUIDE_FEATURES[0]!;
        // unary
        expect(await client.getFeature(known.location!)).toEqual(known);
        expect((await client.getFeature({ latitude: 1, longitude: 1 })).name).toBe("");

        // server streaming: a rectangle around every feature
        const listed = [];
        for await (const feature of client.listFeatures({
          lo: { latitude: 400_000_000, longitude: -750_000_000 },
          hi: { latitude: 420_000_000, longitude: -730_000_000 },
        })) {
          listed.push(feature.name);
        }
        expect(listed).toEqual(ROUTE_GUIDE_FEATURES.map((f) => f.name));

        // client streaming
        const route = ROUTE_GUIDE_FEATURES.slice(0, 3).map((f) => f.location!);
        async function* points(): AsyncIterable<Point> {
          yield* route;
          yield { latitude: 1, longitude: 1 };
        }
        const summary = await client.recordRoute(points());
        expect(summary.pointCount).toBe(4);
        expect(summary.featureCount).toBe(3);
        expect(summary.distance).toBeGreaterThan(0);

        // bidi streaming: each note gets back the notes sent earlier at its point
        // The server keeps notes across calls: a point of this run's own.
        const here = { latitude: chatPoint, longitude: chatPoint };
        async function* notes(): AsyncIterable<RouteNote> {
          yield { location: here, message: "first" };
          yield { location: here, message: "second" };
          yield { location: here, message: "third" };
        }
        const heard = [];
        for await (const note of client.routeChat(notes())) heard.push(note.message);
        expect(heard).toEqual(["first", "first", "second"]);
      } finally {
        client.close();
      }
    });
  },
);
