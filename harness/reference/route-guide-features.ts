import type { Feature } from "../../generated/routeguide/route_guide.js";

/** A few features from gRPC's canonical route_guide_db.json. */
export const ROUTE_GUIDE_FEATURES: readonly Feature[] = [
  { name: "Patriots Path, Mendham, NJ 07945, USA", location: { latitude: 407838351, longitude: -746143763 } },
  { name: "101 New Jersey 10, Whippany, NJ 07981, USA", location: { latitude: 408122808, longitude: -743999179 } },
  { name: "U.S. 6, Shohola, PA 18458, USA", location: { latitude: 413628156, longitude: -749015468 } },
  { name: "5 Conners Road, Kingston, NY 12401, USA", location: { latitude: 419999544, longitude: -740371136 } },
  {
    name: "Mid Hudson Psychiatric Center, New Hampton, NY 10958, USA",
    location: { latitude: 414008389, longitude: -743951297 },
  },
  {
    name: "287 Flugertown Road, Livingston Manor, NY 12758, USA",
    location: { latitude: 419611318, longitude: -746524769 },
  },
  { name: "4001 Tremley Point Road, Linden, NJ 07036, USA", location: { latitude: 406109563, longitude: -742186778 } },
  {
    name: "352 South Mountain Road, Wallkill, NY 12589, USA",
    location: { latitude: 416802456, longitude: -742370183 },
  },
];

/** `count` features along a line, all inside the rectangle (40°N, 74°W)–(41°N, 75°W): streaming benchmarks. */
export function generatedFeatures(count: number): Feature[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `feature ${i}`,
    location: { latitude: 400_000_000 + i, longitude: -740_000_000 - i },
  }));
}
