import { experimental } from "@grpc/grpc-js";
import type { Connection } from "./connection.js";
import { OwnedSubchannel } from "./owned-subchannel.js";
import type { Choose } from "./pick.js";
import { noteOf } from "./pick-note.js";

type PickArgs = experimental.PickArgs;
type PickResult = experimental.PickResult;

/**
 * The connection to take instead of `chosen`, which is at its stream limit,
 * or undefined to hold the call until a connection on its way is ready.
 */
export type WhenFull = (chosen: Connection, ready: readonly Connection[]) => Connection | undefined;

/** A call held by grpc-js until the next picker: it is picked again then. */
const HOLD: PickResult = {
  pickResultType: experimental.PickResultType.QUEUE,
  subchannel: null,
  status: null,
  onCallStarted: null,
  onCallEnded: null,
};

/**
 * @internal
 * Picks among the ready connections and counts each call on the connection
 * that carries it: the counts are what p2c compares and what stats() shows.
 * A connection at its stream limit gets the call only when no other has room.
 */
export class BalancedPicker implements experimental.Picker {
  constructor(
    private readonly ready: readonly Connection[],
    private readonly choose: Choose,
    private readonly whenFull: WhenFull,
  ) {}

  pick(args: PickArgs): PickResult {
    const note = noteOf(args.metadata);
    let connection = this.ready[this.choose(this.ready, note?.avoid)]!;
    if (!connection.hasRoom()) {
      const instead = this.whenFull(connection, this.ready);
      if (instead === undefined) return HOLD;
      connection = instead;
    }
    const result = connection.picker.pick(args);
    if (result.pickResultType !== experimental.PickResultType.COMPLETE) return result;
    connection.picked();
    if (note) note.route = connection.route;
    const { onCallStarted, onCallEnded } = result;
    if (!onCallStarted && !onCallEnded && !connection.timeThisCall()) {
      // Most calls only count: the connection's shared callbacks, nothing allocated.
      return {
        pickResultType: result.pickResultType,
        subchannel: OwnedSubchannel.unwrap(result.subchannel!),
        status: null,
        onCallStarted: connection.started,
        onCallEnded: connection.ended,
      };
    }
    // One call per connection at a time is timed, for its round-trip estimate.
    let startedAt = 0;
    return {
      pickResultType: result.pickResultType,
      subchannel: OwnedSubchannel.unwrap(result.subchannel!),
      status: null,
      onCallStarted: () => {
        startedAt = performance.now();
        connection.startedTimed();
        onCallStarted?.();
      },
      onCallEnded: (code, details, metadata) => {
        connection.endedTimed(startedAt, code, details);
        onCallEnded?.(code, details, metadata);
      },
    };
  }
}
