import type { Metadata } from "@grpc/grpc-js";

/** The connection an attempt was picked for. */
export interface Route {
  /** The connection as it was connected then (a reconnect is another), by an id unique in the process. */
  readonly connection: number;
  /** Its backend's address (`host:port`); behind an L4 balancer, every connection has the same. */
  readonly backend: string;
}

/**
 * @internal
 * What one attempt's pick is told and tells back, carried in the attempt's
 * metadata options: grpc-js hands a call's metadata, with its options object
 * by reference through every clone, to the picker, and sends no option on the
 * wire. The one seam between a call and the balancer.
 *
 * - `avoid`: the routes of the call's other attempts (tried, refused, or
 *   still running beside a hedge): the pick passes over those connections,
 *   and over their backends while another backend's connection suits.
 * - `route`: written by the picker, the connection it chose. grpc-js's own
 *   `getPeer()` says "unknown" until a response arrives, so an attempt in
 *   flight, or refused, cannot tell where it went without this.
 */
export class PickNote {
  /** Set by the picker on each pick that completes: the last is the attempt's. */
  route: Route | undefined;

  constructor(readonly avoid: Avoid | undefined) {}
}

/** Connections and backends a pick passes over (see {@link PickNote}). */
export interface Avoid {
  readonly connections: ReadonlySet<number>;
  readonly backends: ReadonlySet<string>;
}

const KEY = "balancedGrpcPick";

/** @internal The routes' connections and backends, to pass over; undefined for none. */
export function avoiding(routes: Iterable<Route>): Avoid | undefined {
  let avoid: { connections: Set<number>; backends: Set<string> } | undefined;
  for (const route of routes) {
    avoid ??= { connections: new Set(), backends: new Set() };
    avoid.connections.add(route.connection);
    avoid.backends.add(route.backend);
  }
  return avoid;
}

/** @internal Gives `metadata` a fresh note for its attempt's pick, and returns it. */
export function attachNote(metadata: Metadata, avoid: Avoid | undefined): PickNote {
  const note = new PickNote(avoid);
  metadata.setOptions({ ...metadata.getOptions(), [KEY]: note } as never);
  return note;
}

/** @internal The note of an attempt's metadata, if the call gave it one. */
export function noteOf(metadata: Metadata): PickNote | undefined {
  return (metadata.getOptions() as Record<string, unknown>)[KEY] as PickNote | undefined;
}
