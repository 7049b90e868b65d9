import {
  type ChannelInterface,
  type experimental,
  type Metadata,
  status as Status,
  type StatusObject,
} from "@grpc/grpc-js";
import { type Avoid, attachNote, noteOf, type PickNote, type Route } from "../balancer/pick-note.js";
import type { Clock } from "../clock.js";
import { REFUSED_STREAM_REPLAY } from "../defaults.js";
import { mayReplay, replaySoon } from "./refused-stream.js";

type CallStream = experimental.CallStream;
type Listener = Parameters<CallStream["start"]>[1];
type CreateCallArgs = Parameters<ChannelInterface["createCall"]>;
type MessageContext = Parameters<CallStream["sendMessageWithContext"]>[0];

/** @internal The channel a call belongs to, as the call sees it. */
export interface AttemptSource {
  readonly closed: boolean;
  /** The timers of replays that wait. */
  readonly clock: Clock;
  /** Starts one attempt of the call on a fresh pick: a bare grpc-js call. */
  attempt(...args: CreateCallArgs): CallStream;
  /** Called when a refused stream is sent again. */
  replayed(): void;
  /** Called once the call's final status went to the caller. */
  settled(call: ReplayingCall): void;
  /** The call keeps `bytes` more for a replay, if the channel's cap allows (true). */
  keep(bytes: number): boolean;
  /** The call no longer keeps `bytes`. */
  forget(bytes: number): void;
  /** The final status as the caller should see it: what the channel knows of its cause, added. */
  explain(status: StatusObject, responded: boolean): StatusObject;
}

/**
 * @internal
 * A listener may also want to hear of replays (the engine's telemetry: a replay
 * is a new attempt on the wire). Told before the replay starts, with the
 * replay's metadata (to carry that attempt's trace context) and the backend
 * that refused the stream.
 */
export interface ReplayListener {
  onReplay?(metadata: Metadata, refusedBy: Route | undefined): void;
}

interface KeptMessage {
  message: Buffer;
  flags: number | undefined;
}

/**
 * @internal
 * A call that sends a refused stream again: the one owner of that mechanism,
 * for every kind of call (the engine's four, and calls made on the channel
 * by nice-grpc's or grpc-js's own clients).
 *
 * It keeps what the caller sent, up to {@link REFUSED_STREAM_REPLAY}'s byte
 * cap, and if the server refused the stream unprocessed (see
 * refused-stream.ts), starts again on a fresh pick and sends it all again in
 * order. Once anything of the response arrived it keeps nothing: the server
 * processed the call, and every later failure is reported as it is, so a
 * non-idempotent call is never duplicated. Calls that `close()` ended before
 * they were sent end with CANCELLED.
 *
 * It is its own listener on each attempt (no closure per event), and a call
 * with one request keeps one message: the engine's unary path costs this
 * object and two small arrays.
 */
export class ReplayingCall implements CallStream {
  private call: CallStream | undefined;
  private listener: Listener | undefined;
  private metadata: Metadata | undefined;
  private credentials: Parameters<CallStream["setCredentials"]>[0] | undefined;
  private cancelled: { code: Status; details: string } | undefined;
  private responded = false;
  /** What was sent so far, for a replay; undefined once a replay is impossible. */
  private kept: KeptMessage[] | undefined = [];
  private keptBytes = 0;
  /**
   * The caller's callbacks for its writes in flight that have one, in order
   * (grpc-js completes writes in order). Across a replay they fire once the
   * messages were written again.
   */
  private readonly writeCallbacks: (() => void)[] = [];
  /** The write callback of the current attempt; a late one of an earlier attempt is ignored. */
  private written: () => void = () => {};
  private writtenFor: CallStream | undefined;
  private halfClosed = false;
  private readRequested = false;
  private replays = 0;
  /** When the call was first refused (the clock's ms): replays go on for a while from then. */
  private firstRefusedAt: number | undefined;
  /** While a replay waits its turn: calls it off. */
  private pendingReplay: (() => void) | undefined;
  /** The current attempt's pick note: where it went. */
  private note: PickNote | undefined;
  /** What the next pick passes over: what the caller asked, and the connections that refused this call. */
  private avoid: Avoid | undefined;
  /** During a replay: messages still to send, in order; the caller's new ones join the end. */
  private replayQueue: KeptMessage[] | undefined;

  constructor(
    private readonly source: AttemptSource,
    private readonly args: CreateCallArgs,
  ) {}

  start(metadata: Metadata, listener: Listener): void {
    if (this.cancelled) {
      const { code, details } = this.cancelled;
      process.nextTick(() => {
        listener.onReceiveStatus({ code, details, metadata: metadata.clone() });
        this.source.settled(this);
      });
      return;
    }
    this.metadata = metadata;
    this.listener = listener;
    this.avoid = noteOf(metadata)?.avoid;
    try {
      this.startAttempt(metadata);
    } catch (error) {
      // Not started (a closed client): the caller hears of it by the throw, and the channel stops waiting for it.
      this.dropKept();
      this.source.settled(this);
      throw error;
    }
  }

  /** Where the current attempt's pick sent it; undefined before the pick (or off the SDK's balancer). */
  route(): Route | undefined {
    return this.note?.route;
  }

  // --- The attempt's listener ---------------------------------------------

  onReceiveMetadata(metadata: Metadata): void {
    this.responded = true;
    this.dropKept();
    this.listener!.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: Buffer): void {
    this.responded = true;
    this.dropKept();
    this.listener!.onReceiveMessage(message);
  }

  onReceiveStatus(status: StatusObject): void {
    const { closed } = this.source;
    const now = this.source.clock.now();
    this.firstRefusedAt ??= now;
    if (
      this.cancelled === undefined &&
      this.kept &&
      mayReplay(status, this.responded, closed, now - this.firstRefusedAt)
    ) {
      this.pendingReplay = replaySoon(
        () => {
          this.pendingReplay = undefined;
          this.replay(status);
        },
        this.replays,
        this.source.clock,
      );
      return;
    }
    this.end(this.source.explain(status, this.responded));
  }

  /** The caller gets its one final status. */
  private end(status: StatusObject): void {
    this.dropKept();
    this.listener!.onReceiveStatus(status);
    this.source.settled(this);
  }

  /** Keeps nothing more: the call will not be replayed. */
  private dropKept(): void {
    if (this.kept === undefined) return;
    this.kept = undefined;
    this.source.forget(this.keptBytes);
    this.keptBytes = 0;
  }

  // --- Attempts -------------------------------------------------------------

  private startAttempt(metadata: Metadata): void {
    this.note = attachNote(metadata, this.avoid);
    const call = this.source.attempt(...this.args);
    this.call = call;
    if (this.credentials) call.setCredentials(this.credentials);
    call.start(metadata, this);
  }

  private replay(refused: StatusObject | undefined): void {
    if (this.cancelled) {
      // Cancelled while the replay waited for its turn: the caller still gets its one status.
      const { code, details } = this.cancelled;
      this.end({ code, details, metadata: this.metadata!.clone() });
      return;
    }
    if (this.source.closed) {
      // Closed while the replay waited: the call was never processed, and now never will be.
      this.end(this.source.explain(refused!, false));
      return;
    }
    this.replays++;
    this.source.replayed();
    // Not to the connection that refused it (it is closing), nor its backend while another suits.
    const refusedBy = this.note?.route;
    if (refusedBy) this.avoid = withRoute(this.avoid, refusedBy);
    const metadata = this.metadata!.clone();
    (this.listener as ReplayListener).onReplay?.(metadata, refusedBy);
    try {
      this.startAttempt(metadata);
    } catch (error) {
      const details = `balanced-grpc: a refused call could not be sent again: ${error instanceof Error ? error.message : String(error)}`;
      this.end({ code: Status.UNAVAILABLE, details, metadata: metadata.clone() });
      return;
    }
    const call = this.call!;
    if (this.readRequested) call.startRead();
    // grpc-js holds one outgoing message until the stream is up and expects the
    // next only after the last one's write callback: send the kept messages one
    // by one, in order, then the half-close if the caller already sent it.
    this.replayQueue = [...this.kept!];
    const next = () => {
      if (this.call !== call) return; // a newer attempt took over
      const item = this.replayQueue!.shift();
      if (!item) {
        this.replayQueue = undefined;
        // The caller's writes in flight are all written (again) now.
        for (const callback of this.writeCallbacks.splice(0)) callback();
        if (this.halfClosed) call.halfClose();
        return;
      }
      call.sendMessageWithContext({ flags: item.flags, callback: next }, item.message);
    };
    next();
  }

  /**
   * The write callback this call gives `call` for the caller's writes that
   * have one (a unary call's write has none: nothing is made for it).
   */
  private watchWrites(call: CallStream): () => void {
    if (this.writtenFor !== call) {
      this.writtenFor = call;
      this.written = () => {
        if (this.call !== call || this.replayQueue) return;
        this.writeCallbacks.shift()?.();
      };
    }
    return this.written;
  }

  private started(operation: string): CallStream {
    if (!this.call) throw new Error(`balanced-grpc: ${operation}() before start()`);
    return this.call;
  }

  // --- grpc-js's call interface, for the caller -----------------------------

  cancelWithStatus(code: Status, details: string): void {
    this.cancelled ??= { code, details };
    if (this.pendingReplay) {
      // Waiting to be sent again: it ends with this status, on the next tick (as grpc-js ends a cancelled call).
      this.pendingReplay();
      this.pendingReplay = undefined;
      process.nextTick(() => this.replay(undefined));
      return;
    }
    this.call?.cancelWithStatus(code, details);
  }
  getPeer(): string {
    // grpc-js says "unknown" until a response arrived; the pick knows sooner.
    return this.note?.route?.backend || (this.call?.getPeer() ?? "");
  }
  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    const call = this.started("sendMessage");
    const item = { message, flags: context.flags };
    if (this.kept) {
      if (
        this.keptBytes + message.length > REFUSED_STREAM_REPLAY.maxBufferedBytes ||
        !this.source.keep(message.length)
      ) {
        this.dropKept(); // too much to keep (for this call, or for the client): this call will not be replayed
      } else {
        this.keptBytes += message.length;
        this.kept.push(item);
      }
    }
    if (context.callback) this.writeCallbacks.push(context.callback);
    if (this.replayQueue) this.replayQueue.push(item);
    else if (context.callback) {
      call.sendMessageWithContext({ flags: context.flags, callback: this.watchWrites(call) }, message);
    } else call.sendMessageWithContext(context, message);
  }
  startRead(): void {
    this.readRequested = true;
    this.started("startRead").startRead();
  }
  halfClose(): void {
    this.halfClosed = true;
    const call = this.started("halfClose");
    if (!this.replayQueue) call.halfClose(); // else the replay half-closes when done
  }
  getCallNumber(): number {
    return this.call?.getCallNumber() ?? 0;
  }
  setCredentials(credentials: Parameters<CallStream["setCredentials"]>[0]): void {
    this.credentials = credentials;
    this.call?.setCredentials(credentials);
  }
  getAuthContext(): ReturnType<CallStream["getAuthContext"]> {
    return this.call?.getAuthContext() ?? null;
  }
}

/** `avoid` and `route` too. */
function withRoute(avoid: Avoid | undefined, route: Route): Avoid {
  return {
    connections: new Set(avoid?.connections).add(route.connection),
    backends: new Set(avoid?.backends).add(route.backend),
  };
}
