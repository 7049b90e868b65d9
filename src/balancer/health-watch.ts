import { type Channel, Metadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import type { Clock } from "../clock.js";
import { HEALTH_FIRST_ANSWER_TIMEOUT_MS, HEALTH_WATCH_RETRY } from "../defaults.js";
import { doubling } from "../doubling.js";
import {
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  HealthDefinition,
  ServingStatus,
} from "../health/health-proto.js";

/**
 * Where a connection's health came from: its server said `"serving"` or
 * `"not_serving"` (NOT_SERVING, SERVICE_UNKNOWN or UNKNOWN) on its `Watch`;
 * `"unimplemented"`: the server has no health service (healthy); `"unknown"`:
 * no answer (yet), health checking is off, or the Watch failed before any.
 */
export type HealthSource = "serving" | "not_serving" | "unimplemented" | "unknown";

/** @internal Health checking settings, resolved (see the client option `healthCheck`). */
export interface ResolvedHealthCheck {
  /** The name each Watch asks about; `""` is the server as a whole. */
  serviceName: string;
}

/** The status names of grpc.health.v1, as error messages and stats show them. */
const STATUS_NAMES: Record<number, string> = {
  [ServingStatus.UNKNOWN]: "UNKNOWN",
  [ServingStatus.SERVING]: "SERVING",
  [ServingStatus.NOT_SERVING]: "NOT_SERVING",
  [ServingStatus.SERVICE_UNKNOWN]: "SERVICE_UNKNOWN",
};

const STOPPED = "balanced-grpc: health watch ended with its connection";

/** A subchannel's own channel: every call made on it goes on that one connection. */
export type WatchChannel = Pick<Channel, "createCall">;

/**
 * @internal
 * One connection's grpc.health.v1 `Watch` (gRFC A17), on the channel of the
 * subchannel it watches (`SubchannelInterface.getChannel()`, as grpc-js's ORCA
 * out-of-band reports are made): the stream goes on that connection's
 * transport, not through the balancer's picks, so it is no call of the
 * client's (no pick, no `inFlight`, no call metrics).
 *
 * - Each message sets the health: SERVING takes calls, anything else does not.
 * - UNIMPLEMENTED: the server has no health service; healthy, and never asked
 *   again on this transport.
 * - Any other end (an error, or OK): the health stays as it was and the Watch
 *   is made again after a backoff ({@link HEALTH_WATCH_RETRY}).
 * - It is {@link settled} once the server first answered (or said
 *   UNIMPLEMENTED, or the first Watch failed, or
 *   {@link HEALTH_FIRST_ANSWER_TIMEOUT_MS} passed): until then a new
 *   connection takes no calls, so calls queued for it do not all land on a
 *   server that is about to say NOT_SERVING.
 *
 * A new transport (a reconnect) gets a new watch; {@link stop} ends this one.
 */
export class HealthWatch {
  source: HealthSource = "unknown";
  /** The last status the server sent, by name (for error messages). */
  said: string | undefined;
  /** Whether the connection may take calls by now (see the class doc). */
  settled = false;
  /** Watch calls made so far. */
  calls = 0;
  private call: ReturnType<WatchChannel["createCall"]> | undefined;
  private timer: unknown;
  /** Failed Watches in a row since the last answer (the backoff's exponent). */
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly channel: WatchChannel,
    private readonly serviceName: string,
    private readonly clock: Clock,
    /** Called after each change of {@link healthy}, {@link source} or {@link settled}. */
    private readonly changed: () => void,
    private readonly random: () => number = Math.random,
  ) {
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      this.settle();
    }, HEALTH_FIRST_ANSWER_TIMEOUT_MS);
    this.open();
  }

  /** Whether health lets the connection take calls (once {@link settled}). */
  get healthy(): boolean {
    return this.source !== "not_serving";
  }

  /** Ends the Watch (the connection closed, drains, or its transport went away); nothing is reported after. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const call = this.call;
    this.call = undefined;
    call?.cancelWithStatus(Status.CANCELLED, STOPPED);
  }

  private open(): void {
    this.calls++;
    const call = this.channel.createCall(HealthDefinition.watch.path, Number.POSITIVE_INFINITY, null, null, null);
    this.call = call;
    // A subchannel's call starts its stream a few ticks after start(); a cancel
    // before then is lost (grpc-js 1.14's SubchannelCallWrapper opens it
    // anyway), so a stopped watch's stream is cancelled again as it answers.
    const orphaned = (): boolean => {
      if (this.call === call) return false;
      call.cancelWithStatus(Status.CANCELLED, STOPPED);
      return true;
    };
    call.start(new Metadata(), {
      onReceiveMetadata: () => {
        orphaned();
      },
      onReceiveMessage: (message: Buffer) => {
        if (orphaned()) return;
        this.answer(message);
        call.startRead();
      },
      onReceiveStatus: (status: StatusObject) => {
        if (this.call !== call) return;
        this.call = undefined;
        this.ended(status.code);
      },
    });
    call.sendMessageWithContext({}, encodeHealthCheckRequest({ service: this.serviceName }));
    call.halfClose();
    call.startRead();
  }

  private answer(message: Buffer): void {
    let status: number;
    try {
      status = decodeHealthCheckResponse(message).status;
    } catch {
      // Not a HealthCheckResponse: this Watch tells nothing; made again later.
      this.call?.cancelWithStatus(Status.INTERNAL, "balanced-grpc: unreadable HealthCheckResponse");
      return;
    }
    this.failures = 0;
    if (this.timer !== undefined && !this.settled) {
      // The first-answer timer: answered in time.
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const source: HealthSource = status === ServingStatus.SERVING ? "serving" : "not_serving";
    const said = STATUS_NAMES[status] ?? `status ${status}`;
    const change = source !== this.source || said !== this.said || !this.settled;
    this.source = source;
    this.said = said;
    this.settled = true;
    if (change) this.changed();
  }

  private ended(code: number): void {
    if (this.stopped) return;
    if (code === Status.UNIMPLEMENTED) {
      if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.source = "unimplemented";
      this.said = undefined;
      this.settled = true;
      this.changed();
      return;
    }
    // The health stays what the server last said; a first Watch that failed lets the connection take calls.
    const { firstMs, maxMs, jitter } = HEALTH_WATCH_RETRY;
    const delay = doubling(firstMs, maxMs, this.failures) * (1 - jitter + 2 * jitter * this.random());
    this.failures++;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.open();
    }, delay);
    this.settle();
  }

  private settle(): void {
    if (this.settled || this.stopped) return;
    this.settled = true;
    this.changed();
  }
}
