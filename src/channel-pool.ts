import { type ChannelInterface, type experimental, connectivityState as State } from "@grpc/grpc-js";
import { ClientClosedError } from "./errors.js";
import { createPicker, type Picker } from "./picker.js";
import { type CallMember, type CallPool, PooledCall } from "./pooled-call.js";
import type { PickPolicy } from "./strategy.js";

/** One member of a pool, as reported by {@link ChannelPool.stats}. */
export interface MemberStats {
  /** Position of the member in the pool. */
  index: number;
  /** The member channel's connectivity state (a grpc-js `connectivityState`). */
  state: State;
  /** Calls started on this member that have not ended. */
  inFlight: number;
  /** Calls started on this member that have ended, with any status. */
  completed: number;
}

class Member implements CallMember {
  inFlight = 0;
  completed = 0;

  constructor(readonly channel: ChannelInterface) {}

  createCall(...args: Parameters<ChannelInterface["createCall"]>): experimental.CallStream {
    return this.channel.createCall(...args);
  }

  started(): void {
    this.inFlight++;
  }

  ended(): void {
    this.inFlight--;
    this.completed++;
  }

  usable(): boolean {
    const state = this.channel.getConnectivityState(false);
    return state !== State.TRANSIENT_FAILURE && state !== State.SHUTDOWN;
  }
}

/**
 * A grpc-js `Channel` made of several channels: each call goes to one member,
 * chosen by the pick policy. It implements grpc-js's `Channel` interface, so it
 * plugs into nice-grpc's `createClient` and into a grpc-js client as
 * `channelOverride`.
 *
 * Build one with `createChannel(target, strategy)`, which gives every member
 * its own connections; the pool itself does no networking.
 */
export class ChannelPool implements ChannelInterface, CallPool {
  private readonly members: readonly Member[];
  private readonly pick: Picker;
  private isClosed = false;
  private callNumber = 0;
  private replays = 0;

  constructor(
    private readonly target: string,
    channels: readonly ChannelInterface[],
    pick: PickPolicy = "roundRobin",
  ) {
    if (channels.length === 0) throw new RangeError("balanced-grpc: a ChannelPool needs at least one channel");
    this.members = channels.map((channel) => new Member(channel));
    this.pick = createPicker(pick, this.members);
  }

  /** Number of member channels. */
  get size(): number {
    return this.members.length;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  getTarget(): string {
    return this.target;
  }

  /** The member is picked when the call starts (see PooledCall). */
  createCall(...args: Parameters<ChannelInterface["createCall"]>): experimental.CallStream {
    if (this.isClosed) throw new ClientClosedError(this.target);
    return new PooledCall(this, args, ++this.callNumber);
  }

  /** @internal Chooses the member for a call that is starting. */
  pickMember(): CallMember {
    return this.members[this.pick()]!;
  }

  /** @internal */
  replayed(): void {
    this.replays++;
  }

  /**
   * Calls sent again because the server refused their stream unprocessed
   * (a connection closing under max connection age, or a server shutting down).
   */
  get refusedStreamReplays(): number {
    return this.replays;
  }

  /**
   * Closes every member. Calls already sent finish; calls still waiting for a
   * connection end with CANCELLED; later calls fail at once. If closing a member
   * throws, the others are still closed and the first error is rethrown.
   * Calling it again does nothing.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    let first: { error: unknown } | undefined;
    for (const { channel } of this.members) {
      try {
        channel.close();
      } catch (error) {
        first ??= { error };
      }
    }
    if (first) throw first.error;
  }

  /**
   * The pool's state: READY if any member is READY; else CONNECTING, IDLE,
   * TRANSIENT_FAILURE if any member is in it, in that order; SHUTDOWN once closed.
   * `tryToConnect` is passed to every member.
   */
  getConnectivityState(tryToConnect: boolean): State {
    if (this.isClosed) return State.SHUTDOWN;
    return aggregate(this.members.map((m) => m.channel.getConnectivityState(tryToConnect)));
  }

  /**
   * Calls back once the pool's state (see {@link getConnectivityState}) differs
   * from `currentState`, or with an error when `deadline` passes first.
   */
  watchConnectivityState(currentState: State, deadline: Date | number, callback: (error?: Error) => void): void {
    if (this.isClosed) throw new ClientClosedError(this.target);
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      callback(error);
    };
    if (this.getConnectivityState(false) !== currentState) {
      process.nextTick(finish);
      return;
    }
    const watch = (member: Member) => {
      if (done) return;
      const memberState = member.channel.getConnectivityState(false);
      if (memberState === State.SHUTDOWN) return;
      member.channel.watchConnectivityState(memberState, deadline, (error) => {
        if (error) return finish(error);
        if (this.getConnectivityState(false) !== currentState) return finish();
        watch(member);
      });
    };
    for (const member of this.members) watch(member);
  }

  /** The first member's channelz reference; each member has its own. */
  getChannelzRef(): ReturnType<ChannelInterface["getChannelzRef"]> {
    return this.members[0]!.channel.getChannelzRef();
  }

  /** Per-member state and call counts. */
  stats(): MemberStats[] {
    return this.members.map((m, index) => ({
      index,
      state: m.channel.getConnectivityState(false),
      inFlight: m.inFlight,
      completed: m.completed,
    }));
  }
}

const ORDER = [State.READY, State.CONNECTING, State.IDLE, State.TRANSIENT_FAILURE] as const;

function aggregate(states: readonly State[]): State {
  for (const state of ORDER) if (states.includes(state)) return state;
  return State.SHUTDOWN;
}
