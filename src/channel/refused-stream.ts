import { status as Status, type StatusObject } from "@grpc/grpc-js";
import type { Clock } from "../clock.js";
import { REFUSED_STREAM_REPLAY } from "../defaults.js";
import { doubling } from "../doubling.js";
import { isRefusedStream } from "../grpc-js-errors.js";

/**
 * @internal
 * Whether a call that ended with `status` may be sent again. A server that is
 * closing a connection (max connection age, shutdown, a proxy's request
 * quota) sends GOAWAY and answers streams already on their way with
 * RST_STREAM REFUSED_STREAM. By HTTP/2's definition (RFC 9113 §8.7) such a
 * stream was not processed: no application code saw it, so sending it again
 * is safe for any method, however often. Only if nothing of the response
 * arrived, the client is open, and the call was first refused less than
 * `maxReplayMs` ago (`refusedForMs`): a server that refuses every stream for
 * good is not waited on for ever.
 */
export function mayReplay(status: StatusObject, responded: boolean, closed: boolean, refusedForMs: number): boolean {
  return (
    isRefusedStream(status.code, status.details) &&
    !responded &&
    !closed &&
    refusedForMs < REFUSED_STREAM_REPLAY.maxReplayMs
  );
}

/**
 * @internal
 * Runs replay number `replays` (from 0) of a call, and returns how to call
 * it off. The first ones run on the next turn of the event loop: the refused
 * stream and the GOAWAY that caused it arrive together, and by then grpc-js
 * has taken the closing connection out of the pick, so the replay lands on
 * another. Later ones wait, doubling (every connection may be closing at
 * once, as behind a proxy that closes each after 100 requests): the
 * connections being made again then have time to be ready.
 */
export function replaySoon(replay: () => void, replays: number, clock: Clock): () => void {
  const { immediate, firstDelayMs, maxDelayMs } = REFUSED_STREAM_REPLAY;
  if (replays < immediate) {
    const handle = setImmediate(replay);
    return () => clearImmediate(handle);
  }
  const handle = clock.setTimeout(replay, doubling(firstDelayMs, maxDelayMs, replays - immediate));
  return () => clock.clearTimeout(handle);
}

/**
 * @internal
 * When a channel closes, grpc-js ends the calls still waiting for a connection
 * with UNAVAILABLE. Those calls were never sent, and the cause is the caller's
 * own `close()`: they end with CANCELLED instead.
 */
export function statusAfterClose(status: StatusObject, responded: boolean, closed: boolean): StatusObject {
  if (!closed || responded || status.code !== Status.UNAVAILABLE) return status;
  return {
    ...status,
    code: Status.CANCELLED,
    details: `balanced-grpc: the client was closed before the call was sent (${status.details})`,
  };
}
