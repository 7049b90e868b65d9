import {
  type ChannelInterface,
  type experimental,
  type connectivityState as State,
  status as Status,
  type StatusObject,
} from "@grpc/grpc-js";
import type { ConnectionStats } from "../balancer/connection.js";
import type { ConnectionBoard } from "../balancer/connection-board.js";
import { checkDuration } from "../check.js";
import { type Clock, callClock } from "../clock.js";
import { DEFAULT_MAX_METADATA_SIZE, REFUSED_STREAM_REPLAY } from "../defaults.js";
import { ClientClosedError } from "../errors.js";
import { isNoConnection } from "../grpc-js-errors.js";
import type { ClientTelemetry } from "../telemetry/client-telemetry.js";
import { statusAfterClose } from "./refused-stream.js";
import { ReplayingCall } from "./replaying-call.js";

type CreateCallArgs = Parameters<ChannelInterface["createCall"]>;

/** Options of {@link BalancedChannel.close}. */
export interface CloseOptions {
  /**
   * How long calls already sent may still run, ms; then those left are
   * cancelled (CANCELLED). A call to a server that never answers, made
   * without a deadline, would otherwise run, and keep the process alive,
   * for ever. `0` cancels them at once.
   * @default undefined (calls already sent run until they end)
   */
  graceMs?: number;
}

/** The most common cause of no connection, named: grpc-js only says "Failed to connect". */
const PLAINTEXT_HINT = "(the client does not use TLS: if the server does, pass credentials: credentials.createSsl(…))";

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
  /** Calls created and not yet settled: what close() waits for, or cancels after its grace. */
  private readonly live = new Set<ReplayingCall>();
  private drained: (() => void) | undefined;
  /** @internal The timers of replays that wait (they keep the process alive: their callers await them). */
  readonly clock: Clock = callClock;
  /** Engine calls between two attempts (no call on the channel): close() ends them. */
  private readonly between = new Set<() => void>();
  /** Bytes all calls keep for a replay, and the most they may (grpc-js's own retry buffer has the same cap). */
  private keptBytes = 0;
  /** @internal Spans and metrics of the engine's calls and of the pool; undefined when off. */
  readonly telemetry: ClientTelemetry | undefined;

  /** @internal */
  constructor(
    private readonly target: string,
    /** grpc-js's channel, or the SDK's HTTP/2 transport's (the `transport` option). */
    private readonly channel: ChannelInterface,
    private readonly board: ConnectionBoard,
    /** Whether its credentials use TLS: a failure to connect without it may be a TLS server. */
    private readonly secure: boolean,
    telemetry?: ClientTelemetry,
    /** @internal The most metadata an SDK client's call may send, bytes. */
    readonly maxMetadataSize = DEFAULT_MAX_METADATA_SIZE,
  ) {
    this.telemetry = telemetry;
    board.serve(this);
  }

  /** True once {@link BalancedChannel.close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The target the channel was made for, as given. */
  getTarget(): string {
    return this.target;
  }

  /**
   * Starts a call: grpc-js's `Channel` method, through which nice-grpc and
   * grpc-js clients make theirs. Throws {@link ClientClosedError} once the
   * channel is closed.
   */
  createCall(...args: Parameters<ChannelInterface["createCall"]>): experimental.CallStream {
    return this.newCall(...args);
  }

  /** @internal A call as the SDK's engine drives it: it also tells where its pick sent it. */
  newCall(...args: Parameters<ChannelInterface["createCall"]>): ReplayingCall {
    if (this.isClosed) throw new ClientClosedError(this.target);
    const call = new ReplayingCall(this, args);
    this.live.add(call);
    return call;
  }

  /** @internal */
  explain(status: StatusObject, responded: boolean): StatusObject {
    const after = statusAfterClose(status, responded, this.isClosed);
    if (this.secure || responded || !isNoConnection(after.code, after.details)) {
      return after;
    }
    return { ...after, details: `${after.details} ${PLAINTEXT_HINT}` };
  }

  /** @internal */
  settled(call: ReplayingCall): void {
    this.live.delete(call);
    if (this.live.size === 0) this.drained?.();
  }

  /** @internal One bare attempt of a call, on grpc-js's channel. */
  attempt(...args: CreateCallArgs): experimental.CallStream {
    if (this.isClosed) throw new ClientClosedError(this.target);
    return this.channel.createCall(...args);
  }

  /** @internal */
  waiting(end: () => void): () => void {
    this.between.add(end);
    return () => this.between.delete(end);
  }

  /** @internal A call wants to keep `bytes` more for a replay: true if the channel's cap allows. */
  keep(bytes: number): boolean {
    if (this.keptBytes + bytes > REFUSED_STREAM_REPLAY.maxChannelBufferedBytes) return false;
    this.keptBytes += bytes;
    return true;
  }

  /** @internal A call no longer keeps `bytes`. */
  forget(bytes: number): void {
    this.keptBytes -= bytes;
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
   * Closes every connection. Calls already sent finish (within `graceMs`,
   * if given; then they are cancelled); calls still waiting for a connection
   * end with CANCELLED; later calls fail at once. Resolves once every call
   * has ended. Calling it again does nothing more (and resolves the same way).
   */
  close(options: CloseOptions = {}): Promise<void> {
    const graceMs = options.graceMs === undefined ? undefined : checkDuration("graceMs", options.graceMs);
    const done =
      this.live.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const previous = this.drained;
            this.drained = () => {
              previous?.();
              resolve();
            };
          });
    if (graceMs !== undefined && this.live.size > 0) {
      // The timer is no reason to stay alive: the calls it bounds are.
      setTimeout(() => this.cancelAll(), graceMs).unref();
    }
    if (!this.isClosed) {
      this.isClosed = true;
      this.telemetry?.close();
      this.channel.close();
      // Calls waiting to retry end now: a retry could only fail with ClientClosedError.
      for (const end of [...this.between]) end();
      this.between.clear();
    }
    return done;
  }

  /** @internal The calls on a connection whose drain grace ran out end CANCELLED. */
  cancelCallsOn(connection: number): void {
    for (const call of [...this.live]) {
      if (call.route()?.connection === connection) {
        call.cancelWithStatus(
          Status.CANCELLED,
          "balanced-grpc: the connection was past its max age and its grace ran out",
        );
      }
    }
  }

  private cancelAll(): void {
    for (const call of [...this.live]) {
      call.cancelWithStatus(Status.CANCELLED, "balanced-grpc: the client was closed and its grace period ran out");
    }
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

  /** The channelz reference of the grpc-js channel underneath. */
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
