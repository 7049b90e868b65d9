import { ServerError, type ServiceRegistration, Status, service } from "balanced-grpc";
import {
  type Feature,
  type Point,
  RouteGuideDefinition,
  type RouteGuideServiceImplementation,
  type RouteNote,
} from "../../generated/routeguide/route_guide.js";

import { ROUTE_GUIDE_FEATURES } from "./route-guide-features.js";

const COORD_FACTOR = 1e7;

/** Great-circle distance in metres between two E7 points (haversine). */
function distance(a: Point, b: Point): number {
  const rad = (deg: number) => (deg * Math.PI) / 180;
  const lat1 = rad(a.latitude / COORD_FACTOR);
  const lat2 = rad(b.latitude / COORD_FACTOR);
  const dLat = lat2 - lat1;
  const dLon = rad((b.longitude - a.longitude) / COORD_FACTOR);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1) * Math.cos(lat2) * Math.sin(dLon / 2) ** 2;
  return Math.round(6_371_000 * 2 * Math.atan2(Math.sqrt(h), Math.sqrt(1 - h)));
}

const key = (p: Point | undefined) => `${p?.latitude ?? 0},${p?.longitude ?? 0}`;

/**
 * The reference RouteGuide, as in gRPC's examples: all four call kinds over a
 * small built-in feature list. Route notes are kept per instance.
 */
export function routeGuideImplementation(
  features: readonly Feature[] = ROUTE_GUIDE_FEATURES,
  { echoChat = false }: { echoChat?: boolean } = {},
): RouteGuideServiceImplementation {
  const byPoint = new Map(features.map((f) => [key(f.location), f]));
  const notes = new Map<string, RouteNote[]>();
  return {
    async getFeature(point) {
      return byPoint.get(key(point)) ?? { name: "", location: point };
    },
    async *listFeatures(rectangle) {
      if (!rectangle.lo || !rectangle.hi) throw new ServerError(Status.INVALID_ARGUMENT, "lo and hi are required");
      const { lo, hi } = rectangle;
      const [minLat, maxLat] = [Math.min(lo.latitude, hi.latitude), Math.max(lo.latitude, hi.latitude)];
      const [minLon, maxLon] = [Math.min(lo.longitude, hi.longitude), Math.max(lo.longitude, hi.longitude)];
      for (const feature of features) {
        const { latitude, longitude } = feature.location!;
        if (latitude >= minLat && latitude <= maxLat && longitude >= minLon && longitude <= maxLon) yield feature;
      }
    },
    async recordRoute(points) {
      const start = Date.now();
      let pointCount = 0;
      let featureCount = 0;
      let total = 0;
      let previous: Point | undefined;
      for await (const point of points) {
        pointCount++;
        if (byPoint.get(key(point))?.name) featureCount++;
        if (previous) total += distance(previous, point);
        previous = point;
      }
      return { pointCount, featureCount, distance: total, elapsedTime: Math.round((Date.now() - start) / 1000) };
    },
    async *routeChat(incoming) {
      for await (const note of incoming) {
        if (echoChat) {
          yield note; // benchmarks: one reply per note
          continue;
        }
        const at = key(note.location);
        const earlier = notes.get(at) ?? [];
        yield* earlier;
        notes.set(at, [...earlier, note]);
      }
    },
  };
}

/** The reference RouteGuide, ready for `startServer({ services: [...] })`. */
export function routeGuideService(
  features?: readonly Feature[],
  options?: { echoChat?: boolean },
): ServiceRegistration {
  return service(RouteGuideDefinition, routeGuideImplementation(features, options));
}
