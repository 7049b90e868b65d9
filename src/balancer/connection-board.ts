import { type ChannelOptions, experimental } from "@grpc/grpc-js";
import { type Clock, systemClock } from "../clock.js";
import type { ConnectionStats } from "./connection.js";
import type { StreamLimitProbe } from "./stream-limit.js";

/** What a board asks of the balancer that reports to it. */
export interface ConnectionSource {
  stats(): ConnectionStats[];
}

/** @internal The channel, as the board sees it: it can end the calls on one connection. */
export interface CallCanceller {
  cancelCallsOn(connection: number): void;
}

/** @internal Who hears of the pool's events through the board (the channel's telemetry). */
export interface PoolEvents {
  /** A connection to `backend` was replaced by a fresh one (client-side max connection age). */
  recycled(backend: string): void;
  /** Failure accrual took `backend` out of the picks. */
  ejected(backend: string): void;
}

/**
 * @internal
 * Where a channel's balancer reports its connections, and where the channel
 * reads them. grpc-js builds a load-balancing policy itself, from a JSON
 * config; the one object it hands the policy besides is the channel's
 * options. So the channel puts its board there, under a key grpc-js keeps
 * from subchannels ({@link BOARD_OPTION}): the one seam between the two,
 * with no id and no global map.
 */
export class ConnectionBoard {
  private source: ConnectionSource | undefined;
  private calls: CallCanceller | undefined;
  /**
   * Where the balancer reads each server's stream limit when the channel
   * knows it from its own connections (the HTTP/2 transport); undefined: the
   * balancer probes (stream-limit.ts).
   */
  streamLimitProbe: StreamLimitProbe | undefined;

  /**
   * @param events where the balancer's events go up (telemetry), if anywhere.
   * @param clock the balancer's time and timers (recycling, shrinking, probes, ejections); tests pass a fake one.
   */
  constructor(
    readonly events?: PoolEvents,
    readonly clock: Clock = systemClock,
  ) {}

  /** The balancer now serving the channel (grpc-js may replace it on a new config). */
  attach(source: ConnectionSource): void {
    this.source = source;
  }

  /** The channel whose calls the board can end: set once, by the channel. */
  serve(calls: CallCanceller): void {
    this.calls = calls;
  }

  /** The balancer gave up waiting for the calls on a connection: the channel cancels them. */
  cancelCallsOn(connection: number): void {
    this.calls?.cancelCallsOn(connection);
  }

  /** A balancer going away. */
  detach(source: ConnectionSource): void {
    if (this.source === source) this.source = undefined;
  }

  /** Connections of the channel, or none before its first resolution. */
  stats(): ConnectionStats[] {
    return this.source?.stats() ?? [];
  }

  /**
   * What the board is in JSON: grpc-js 1.14.0 writes a channel's options
   * with JSON.stringify, and what the board holds (the balancer, the
   * telemetry's meter) is no JSON and may be circular.
   */
  toJSON(): string {
    return "balanced-grpc connection board";
  }

  /** The channel option that carries this board to the balancer. */
  asChannelOption(): ChannelOptions {
    return { [BOARD_OPTION]: this };
  }

  /** The board in a balancer's channel options, if any. */
  static of(options: ChannelOptions): ConnectionBoard | undefined {
    const board = options[BOARD_OPTION];
    return board instanceof ConnectionBoard ? board : undefined;
  }
}

/** Options under this prefix reach the balancer but not subchannels (nor their identity). */
const BOARD_OPTION = `${experimental.SUBCHANNEL_ARGS_EXCLUDE_KEY_PREFIX}.balanced_grpc.board`;
