import { status as Status, type Metadata, type StatusObject, experimental } from "@grpc/grpc-js";

type CallStream = experimental.CallStream;
type Listener = Parameters<CallStream["start"]>[1];

/** The member a tracked call runs on. */
export interface CallCounter {
  /** Called exactly once, when the call ends with any status. */
  ended(): void;
}

/** The pool a tracked call belongs to. */
export interface Closable {
  /** True once the pool was closed. */
  readonly closed: boolean;
}

/**
 * A grpc-js call that tells its pool when it ends, so the pool can count calls
 * in flight per member (for the p2c pick and `stats()`).
 *
 * When a channel closes, grpc-js ends the calls still waiting for a connection
 * with UNAVAILABLE. Those calls were never sent, and the cause is the caller's
 * own `close()`, so they end with CANCELLED instead.
 */
export class TrackedCall implements CallStream {
  private receivedMetadata = false;

  constructor(
    private readonly call: CallStream,
    private readonly counter: CallCounter,
    private readonly pool: Closable,
  ) {}

  start(metadata: Metadata, listener: Listener): void {
    this.call.start(metadata, {
      onReceiveMetadata: (received) => {
        this.receivedMetadata = true;
        listener.onReceiveMetadata(received);
      },
      onReceiveMessage: (message) => listener.onReceiveMessage(message),
      onReceiveStatus: (status) => {
        this.counter.ended();
        listener.onReceiveStatus(this.closedStatus(status) ?? status);
      },
    });
  }

  private closedStatus(status: StatusObject): StatusObject | undefined {
    if (!this.pool.closed || this.receivedMetadata || status.code !== Status.UNAVAILABLE) return undefined;
    return {
      ...status,
      code: Status.CANCELLED,
      details: `balanced-grpc: the client was closed before the call was sent (${status.details})`,
    };
  }

  cancelWithStatus(code: Status, details: string): void {
    this.call.cancelWithStatus(code, details);
  }
  getPeer(): string {
    return this.call.getPeer();
  }
  sendMessageWithContext(context: Parameters<CallStream["sendMessageWithContext"]>[0], message: Buffer): void {
    this.call.sendMessageWithContext(context, message);
  }
  startRead(): void {
    this.call.startRead();
  }
  halfClose(): void {
    this.call.halfClose();
  }
  getCallNumber(): number {
    return this.call.getCallNumber();
  }
  setCredentials(credentials: Parameters<CallStream["setCredentials"]>[0]): void {
    this.call.setCredentials(credentials);
  }
  getAuthContext(): ReturnType<CallStream["getAuthContext"]> {
    return this.call.getAuthContext();
  }
}
