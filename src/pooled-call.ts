import {
  type ChannelInterface,
  type experimental,
  type Metadata,
  status as Status,
  type StatusObject,
} from "@grpc/grpc-js";
import { takeCarriedOptions } from "./call-options.js";
import { REFUSED_STREAM_REPLAY } from "./defaults.js";

type CallStream = experimental.CallStream;
type Listener = Parameters<CallStream["start"]>[1];
type CreateCallArgs = Parameters<ChannelInterface["createCall"]>;
type MessageContext = Parameters<CallStream["sendMessageWithContext"]>[0];

/** The member channel a call runs on, as the call sees it. */
export interface CallMember {
  createCall(...args: CreateCallArgs): CallStream;
  /** Called when an attempt starts on this member. */
  started(): void;
  /** Called exactly once per started attempt, when it ends with any status. */
  ended(): void;
}

/** The pool a call belongs to, as the call sees it. */
export interface CallPool {
  readonly closed: boolean;
  /** Chooses the member for an attempt that is starting. */
  pickMember(): CallMember;
  /** Called when a refused stream is sent again. */
  replayed(): void;
}

/** grpc-js's details for a stream the server answered with RST_STREAM REFUSED_STREAM. */
const REFUSED_DETAILS = "Stream refused by server";

interface SentMessage {
  context: MessageContext;
  message: Buffer;
}

/**
 * A call of a ChannelPool.
 *
 * The real grpc-js call is made in `start()`, not in `createCall()`: only then
 * are the call's metadata known, and with them the deadline and waitForReady
 * that the SDK's middleware put in the carrier header (see call-options.ts).
 * The member is picked then too, and told when the call ends, so the pool
 * knows the calls in flight per member.
 *
 * **Refused streams are sent again, for any method.** A server that is
 * closing a connection (max connection age, shutdown) sends GOAWAY and answers
 * streams that were already on their way with RST_STREAM REFUSED_STREAM. By
 * HTTP/2's definition (RFC 9113 §8.7) such a stream was not processed: no
 * application code saw it. grpc-js retries it once by itself; under rotation
 * that is not enough. So the call keeps what it sent (up to a byte limit) and,
 * if it ends with grpc-js's refused-stream status before any response header
 * or message arrived, starts again on a fresh pick. It cannot duplicate a
 * non-idempotent call: every other failure, which the server may have
 * processed, is reported as it is, and retrying those is left to the retry
 * middleware, which does so only for idempotent methods or on request.
 *
 * When a channel closes, grpc-js ends the calls still waiting for a connection
 * with UNAVAILABLE. Those calls were never sent, and the cause is the caller's
 * own `close()`, so they end with CANCELLED instead.
 */
export class PooledCall implements CallStream {
  private call: CallStream | undefined;
  private credentials: Parameters<CallStream["setCredentials"]>[0] | undefined;
  private cancelled: { code: Status; details: string } | undefined;
  private responded = false;
  private metadata: Metadata | undefined;
  private listener: Listener | undefined;
  private deadline: CreateCallArgs[1];
  /** What was sent so far, for a replay; undefined once a replay is impossible. */
  private sent: SentMessage[] | undefined = [];
  private sentBytes = 0;
  private halfClosed = false;
  private readRequested = false;
  private replays = 0;
  /** During a replay: messages still to send, in order; the caller's new ones join the end. */
  private replayQueue: SentMessage[] | undefined;

  constructor(
    private readonly pool: CallPool,
    private readonly args: CreateCallArgs,
    private readonly callNumber: number,
  ) {
    this.deadline = args[1];
  }

  start(metadata: Metadata, listener: Listener): void {
    if (this.cancelled) {
      const { code, details } = this.cancelled;
      process.nextTick(() => listener.onReceiveStatus({ code, details, metadata: metadata.clone() }));
      return;
    }
    const carried = takeCarriedOptions(metadata);
    if (carried?.deadline !== undefined) this.deadline = carried.deadline;
    if (carried?.waitForReady) metadata.setOptions({ ...metadata.getOptions(), waitForReady: true });
    this.metadata = metadata;
    this.listener = listener;
    this.startAttempt(metadata);
  }

  private startAttempt(metadata: Metadata): void {
    const [method, , ...rest] = this.args;
    const member = this.pool.pickMember();
    const call = member.createCall(method, this.deadline, ...rest);
    this.call = call;
    if (this.credentials) call.setCredentials(this.credentials);
    member.started();
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
        member.ended();
        if (this.canReplay(status)) return this.replay();
        this.sent = undefined;
        listener.onReceiveStatus(this.closedStatus(status) ?? status);
      },
    });
  }

  private canReplay(status: StatusObject): boolean {
    return (
      status.code === Status.UNAVAILABLE &&
      status.details === REFUSED_DETAILS &&
      !this.responded &&
      this.sent !== undefined &&
      this.cancelled === undefined &&
      !this.pool.closed &&
      this.replays < REFUSED_STREAM_REPLAY.maxReplays
    );
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
    this.replayQueue = [...this.sent!];
    const next = () => {
      if (this.call !== call) return; // a newer attempt took over
      const item = this.replayQueue!.shift();
      if (!item) {
        this.replayQueue = undefined;
        if (this.halfClosed) call.halfClose();
        return;
      }
      const written = item.context.callback;
      call.sendMessageWithContext(
        { ...item.context, callback: (...args) => (written?.(...args), next()) },
        item.message,
      );
    };
    next();
  }

  private closedStatus(status: StatusObject): StatusObject | undefined {
    if (!this.pool.closed || this.responded || status.code !== Status.UNAVAILABLE) return undefined;
    return {
      ...status,
      code: Status.CANCELLED,
      details: `balanced-grpc: the client was closed before the call was sent (${status.details})`,
    };
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
        // A replay must not report a write the caller already saw complete.
        const callback = context.callback ? once(context.callback) : undefined;
        context = { ...context, ...(callback ? { callback } : {}) };
        this.sent.push({ context, message });
      }
    }
    if (this.replayQueue) this.replayQueue.push({ context, message });
    else call.sendMessageWithContext(context, message);
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
    return this.call?.getCallNumber() ?? this.callNumber;
  }
  setCredentials(credentials: Parameters<CallStream["setCredentials"]>[0]): void {
    this.credentials = credentials;
    this.call?.setCredentials(credentials);
  }
  getAuthContext(): ReturnType<CallStream["getAuthContext"]> {
    return this.call?.getAuthContext() ?? null;
  }
}

function once<Args extends unknown[]>(fn: (...args: Args) => void): (...args: Args) => void {
  let called = false;
  return (...args) => {
    if (called) return;
    called = true;
    fn(...args);
  };
}
