import type { Channel, ChannelInterface, experimental, connectivityState as State } from "@grpc/grpc-js";
import type { ConnectionStats } from "../balancer/connection.js";
import type { ConnectionBoard } from "../balancer/connection-board.js";
import { ClientClosedError } from "../errors.js";
import type { ClientTelemetry } from "../telemetry/client-telemetry.js";
import { ReplayingCall } from "./replaying-call.js";

type CreateCallArgs = Parameters<ChannelInterface["createCall"]>;

/**
 * A client's channel: one grpc-js channel whose load-balancing policy is the
 * client's strategy (`pool(n)`: n connections per resolved address), behind
 * grpc-js's `Channel` interface, so it also plugs into nice-grpc's
 * `createClient` and into a grpc-js client as `channelOverride`.
 *
 * Its calls send refused streams again (see the README's "Zero-loss
 * rotation"), and calls that `close()` ends before they were sent end with
 * CANCELLED. Make one with `createBalancedChannel(target, strategy)`.
 */
export class BalancedChannel implements ChannelInterface {
  private isClosed = false;
  private replays = 0;
  /** @internal Spans and metrics of the engine's calls and of the pool; undefined when off. */
  readonly telemetry: ClientTelemetry | undefined;

  /** @internal */
  constructor(
    private readonly target: string,
    private readonly channel: Channel,
    private readonly board: ConnectionBoard,
    telemetry?: ClientTelemetry,
  ) {
    this.telemetry = telemetry;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  getTarget(): string {
    return this.target;
  }

  createCall(...args: CreateCallArgs): experimental.CallStream {
    if (this.isClosed) throw new ClientClosedError(this.target);
    return new ReplayingCall(this, args);
  }

  /** @internal One bare attempt of a call, on grpc-js's channel. */
  attempt(...args: CreateCallArgs): experimental.CallStream {
    if (this.isClosed) throw new ClientClosedError(this.target);
    return this.channel.createCall(...args);
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
   * Closes every connection. Calls already sent finish; calls still waiting
   * for a connection end with CANCELLED; later calls fail at once. Calling it
   * again does nothing.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.telemetry?.close();
    this.channel.close();
  }

  /** The channel's state: READY while any connection is ready. */
  getConnectivityState(tryToConnect: boolean): State {
    return this.channel.getConnectivityState(tryToConnect);
  }

  /** Calls back once the state differs from `currentState`, or with an error when `deadline` passes first. */
  watchConnectivityState(currentState: State, deadline: Date | number, callback: (error?: Error) => void): void {
    if (this.isClosed) throw new ClientClosedError(this.target);
    this.channel.watchConnectivityState(currentState, deadline, callback);
  }

  getChannelzRef(): ReturnType<ChannelInterface["getChannelzRef"]> {
    return this.channel.getChannelzRef();
  }

  /**
   * Each connection: the backend address it reached, its state, calls in
   * flight and completed, and its age. Draining connections (past their max
   * age, finishing their calls) and a replacement being connected are listed too.
   */
  stats(): ConnectionStats[] {
    return this.board.stats();
  }
}

/**
 * @deprecated The former name of {@link BalancedChannel} (it is one grpc-js
 * channel, not a pool of channels); kept because earlier READMEs named it.
 */
export type ChannelPool = BalancedChannel;
