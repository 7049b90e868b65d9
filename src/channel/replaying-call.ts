import type { ChannelInterface, experimental, Metadata, status as Status } from "@grpc/grpc-js";
import { REFUSED_STREAM_REPLAY } from "../defaults.js";
import { mayReplay, replaySoon, statusAfterClose } from "./refused-stream.js";

type CallStream = experimental.CallStream;
type Listener = Parameters<CallStream["start"]>[1];
type CreateCallArgs = Parameters<ChannelInterface["createCall"]>;
type MessageContext = Parameters<CallStream["sendMessageWithContext"]>[0];

/** @internal The pool a call belongs to, as the call sees it. */
export interface CallPool {
  readonly closed: boolean;
  /** Starts one attempt of the call on a fresh pick. */
  attempt(...args: CreateCallArgs): CallStream;
  /** Called when a refused stream is sent again. */
  replayed(): void;
}

interface SentMessage {
  message: Buffer;
  flags: number | undefined;
}

/**
 * @internal
 * A call of a ChannelPool.
 *
 * **Refused streams are sent again, for any method** (see refused-stream.ts):
 * the call keeps what it sent, up to a byte limit, and if the server refused
 * the stream unprocessed, starts again on a fresh pick, sending it all again
 * in order. It cannot duplicate a non-idempotent call: every other failure,
 * which the server may have processed, is reported as it is, and retrying
 * those is left to the retry settings, which retry only idempotent methods or
 * on request. Calls that `close()` ended before they were sent end with
 * CANCELLED.
 */
export class PooledCall implements CallStream {
  private call: CallStream | undefined;
  private credentials: Parameters<CallStream["setCredentials"]>[0] | undefined;
  private cancelled: { code: Status; details: string } | undefined;
  private responded = false;
  private metadata: Metadata | undefined;
  private listener: Listener | undefined;
  /** The messages sent so far, for a replay (with their flags); undefined once a replay is impossible. */
  private sent: Buffer[] | undefined = [];
  private sentFlags: (number | undefined)[] = [];
  private sentBytes = 0;
  /**
   * The caller's callbacks for its writes in flight, in order (grpc-js
   * completes writes in order). Across a replay they fire once the messages
   * were written again.
   */
  private readonly writeCallbacks: ((() => void) | undefined)[] = [];
  /** The write callback of the current attempt; a late one of an earlier attempt is ignored. */
  private written: () => void = () => {};
  private halfClosed = false;
  private readRequested = false;
  private replays = 0;
  /** During a replay: messages still to send, in order; the caller's new ones join the end. */
  private replayQueue: SentMessage[] | undefined;

  constructor(
    private readonly pool: CallPool,
    private readonly args: CreateCallArgs,
  ) {}

  start(metadata: Metadata, listener: Listener): void {
    if (this.cancelled) {
      const { code, details } = this.cancelled;
      process.nextTick(() => listener.onReceiveStatus({ code, details, metadata: metadata.clone() }));
      return;
    }
    this.metadata = metadata;
    this.listener = listener;
    this.startAttempt(metadata);
  }

  private startAttempt(metadata: Metadata): void {
    const call = this.pool.attempt(...this.args);
    this.call = call;
    this.written = () => {
      if (this.call !== call || this.replayQueue) return;
      this.writeCallbacks.shift()?.();
    };
    if (this.credentials) call.setCredentials(this.credentials);
    const listener = this.listener!;
    call.start(metadata, {
      onReceiveMetadata: (received) => {
        this.responded = true;
        this.sent = undefined;
        listener.onReceiveMetadata(received);
      },
      onReceiveMessage: (message) => {
        this.responded = true;
        this.sent = undefined;
        listener.onReceiveMessage(message);
      },
      onReceiveStatus: (status) => {
        if (
          this.cancelled === undefined &&
          this.sent &&
          mayReplay(status, this.responded, this.pool.closed, this.replays)
        ) {
          replaySoon(() => this.replay());
          return;
        }
        this.sent = undefined;
        listener.onReceiveStatus(statusAfterClose(status, this.responded, this.pool.closed));
      },
    });
  }

  private replay(): void {
    this.replays++;
    this.pool.replayed();
    this.startAttempt(this.metadata!.clone());
    const call = this.call!;
    if (this.readRequested) call.startRead();
    // grpc-js holds one outgoing message until the stream is up and expects the
    // next only after the last one's write callback: send the kept messages one
    // by one, in order, then the half-close if the caller already sent it.
    this.replayQueue = this.sent!.map((message, i) => ({ message, flags: this.sentFlags[i] }));
    const next = () => {
      if (this.call !== call) return; // a newer attempt took over
      const item = this.replayQueue!.shift();
      if (!item) {
        this.replayQueue = undefined;
        // The caller's writes in flight are all written (again) now.
        for (const callback of this.writeCallbacks.splice(0)) callback?.();
        if (this.halfClosed) call.halfClose();
        return;
      }
      call.sendMessageWithContext({ flags: item.flags, callback: next }, item.message);
    };
    next();
  }

  private started(operation: string): CallStream {
    if (!this.call) throw new Error(`balanced-grpc: ${operation}() before start()`);
    return this.call;
  }

  cancelWithStatus(code: Status, details: string): void {
    this.cancelled ??= { code, details };
    this.call?.cancelWithStatus(code, details);
  }
  getPeer(): string {
    return this.call?.getPeer() ?? "";
  }
  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    const call = this.started("sendMessage");
    if (this.sent) {
      this.sentBytes += message.length;
      if (this.sentBytes > REFUSED_STREAM_REPLAY.maxBufferedBytes) {
        this.sent = undefined; // too much to keep: this call will not be replayed
      } else {
        this.sent.push(message);
        this.sentFlags.push(context.flags);
      }
    }
    this.writeCallbacks.push(context.callback);
    if (this.replayQueue) this.replayQueue.push({ message, flags: context.flags });
    else call.sendMessageWithContext({ flags: context.flags, callback: this.written }, message);
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
