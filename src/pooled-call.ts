import { status as Status, type ChannelInterface, type Metadata, type StatusObject, type experimental } from "@grpc/grpc-js";
import { takeCarriedOptions } from "./call-options.js";

type CallStream = experimental.CallStream;
type Listener = Parameters<CallStream["start"]>[1];
type CreateCallArgs = Parameters<ChannelInterface["createCall"]>;

/** The member channel a call runs on, as the call sees it. */
export interface CallMember {
  createCall(...args: CreateCallArgs): CallStream;
  /** Called when a call starts on this member. */
  started(): void;
  /** Called exactly once per started call, when it ends with any status. */
  ended(): void;
}

/** The pool a call belongs to, as the call sees it. */
export interface CallPool {
  readonly closed: boolean;
  /** Chooses the member for a call that is starting. */
  pickMember(): CallMember;
}

/**
 * A call of a ChannelPool. The real grpc-js call is made in `start()`, not in
 * `createCall()`: only then are the call's metadata known, and with them the
 * deadline and waitForReady that the SDK's middleware put in the carrier
 * header (see call-options.ts). The member is picked then too, and told when
 * the call ends, so the pool knows the calls in flight per member.
 *
 * When a channel closes, grpc-js ends the calls still waiting for a connection
 * with UNAVAILABLE. Those calls were never sent, and the cause is the caller's
 * own `close()`, so they end with CANCELLED instead.
 */
export class PooledCall implements CallStream {
  private call: CallStream | undefined;
  private credentials: Parameters<CallStream["setCredentials"]>[0] | undefined;
  private cancelled: { code: Status; details: string } | undefined;
  private receivedMetadata = false;

  constructor(
    private readonly pool: CallPool,
    private readonly args: CreateCallArgs,
    private readonly callNumber: number,
  ) {}

  start(metadata: Metadata, listener: Listener): void {
    if (this.cancelled) {
      const { code, details } = this.cancelled;
      process.nextTick(() => listener.onReceiveStatus({ code, details, metadata: metadata.clone() }));
      return;
    }
    const carried = takeCarriedOptions(metadata);
    const [method, deadline, ...rest] = this.args;
    const member = this.pool.pickMember();
    const call = member.createCall(method, carried?.deadline ?? deadline, ...rest);
    this.call = call;
    if (this.credentials) call.setCredentials(this.credentials);
    if (carried?.waitForReady) metadata.setOptions({ ...metadata.getOptions(), waitForReady: true });
    member.started();
    call.start(metadata, {
      onReceiveMetadata: (received) => {
        this.receivedMetadata = true;
        listener.onReceiveMetadata(received);
      },
      onReceiveMessage: (message) => listener.onReceiveMessage(message),
      onReceiveStatus: (status) => {
        member.ended();
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

  private started(operation: string): CallStream {
    if (!this.call) throw new Error(`balanced-grpc: ${operation}() before start()`);
    return this.call;
  }

  cancelWithStatus(code: Status, details: string): void {
    if (this.call) this.call.cancelWithStatus(code, details);
    else this.cancelled ??= { code, details };
  }
  getPeer(): string {
    return this.call?.getPeer() ?? "";
  }
  sendMessageWithContext(context: Parameters<CallStream["sendMessageWithContext"]>[0], message: Buffer): void {
    this.started("sendMessage").sendMessageWithContext(context, message);
  }
  startRead(): void {
    this.started("startRead").startRead();
  }
  halfClose(): void {
    this.started("halfClose").halfClose();
  }
  getCallNumber(): number {
    return this.call?.getCallNumber() ?? this.callNumber;
  }
  setCredentials(credentials: Parameters<CallStream["setCredentials"]>[0]): void {
    if (this.call) this.call.setCredentials(credentials);
    else this.credentials = credentials;
  }
  getAuthContext(): ReturnType<CallStream["getAuthContext"]> {
    return this.call?.getAuthContext() ?? null;
  }
}
