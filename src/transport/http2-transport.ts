import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants as h2,
  type OutgoingHttpHeaders,
  type Settings,
} from "node:http2";
import { TLSSocket } from "node:tls";
import type { experimental } from "@grpc/grpc-js";
import { UNLIMITED_STREAMS } from "../defaults.js";

type AuthContext = ReturnType<experimental.CallStream["getAuthContext"]>;

/** @internal Keepalive as grpc-js's channel options set it (`grpc.keepalive_*`). */
export interface KeepaliveSettings {
  /** Time between pings while calls are open, ms; -1: no pings. */
  timeMs: number;
  /** How long a ping may go unanswered before the connection is dropped, ms. */
  timeoutMs: number;
  /** Ping with no call open, too. */
  withoutCalls: boolean;
}

/** What a transport tells its subchannel. */
export interface TransportOwner {
  /**
   * The connection takes no new streams: GOAWAY, closed, failed, or a ping
   * unanswered. Called once. `tooManyPings`: the server's GOAWAY said its
   * pings came too often (ENHANCE_YOUR_CALM "too_many_pings").
   */
  disconnected(transport: Http2Transport, tooManyPings: boolean): void;
}

/** grpc-js's keepalive timeout when none is set, ms. */
const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;
const TOO_MANY_PINGS = Buffer.from("too_many_pings");

/** @internal Keepalive settings from grpc-js channel options, with grpc-js's defaults. */
export function keepaliveOf(options: Record<string, unknown>, timeMs: number): KeepaliveSettings {
  const timeout = options["grpc.keepalive_timeout_ms"];
  return {
    timeMs,
    timeoutMs: typeof timeout === "number" ? timeout : DEFAULT_KEEPALIVE_TIMEOUT_MS,
    withoutCalls: options["grpc.keepalive_permit_without_calls"] === 1,
  };
}

/**
 * @internal
 * One connected HTTP/2 session to one server: what the transport owns of the
 * connection, and what grpc-js keeps inside its own.
 *
 * - The server's SETTINGS_MAX_CONCURRENT_STREAMS, exact ({@link streamLimit}):
 *   the session is handed over only once the server's first SETTINGS came.
 * - GOAWAY: the connection takes no new stream from then on (its owner is
 *   told at once, so picks leave it), and the last stream id the server will
 *   process is kept: a stream above it was never seen by the server
 *   ({@link neverProcessed}), so it is safe to send again, for any method.
 * - Keepalive pings as grpc-js sends them: every `timeMs` while calls are
 *   open (or always, with `withoutCalls`), the connection dropped when one
 *   goes unanswered for `timeoutMs`.
 * - The process is not kept alive by an idle connection: the session is
 *   referenced only while calls are open.
 */
export class Http2Transport {
  /** The server's limit of streams open at once on this connection. */
  streamLimit = UNLIMITED_STREAMS;
  /** Calls open on it. */
  activeCalls = 0;
  /** The last stream id of the server's latest GOAWAY; undefined before any. */
  private goawayLastStreamId: number | undefined;
  /** The error code of the server's GOAWAY, if one came. */
  private goawayCode: number | undefined;
  private gone = false;
  private pingTimer: NodeJS.Timeout | undefined;
  /** A ping is due but no call was open: it goes out when the next call starts. */
  private pingDue = false;
  readonly authContext: AuthContext;

  constructor(
    readonly session: ClientHttp2Session,
    /** The server's address, `host:port` (what a call's `getPeer()` says). */
    readonly peer: string,
    private readonly keepalive: KeepaliveSettings,
    private readonly owner: TransportOwner,
    settings: Settings,
  ) {
    this.learn(settings);
    session.unref();
    session.on("remoteSettings", (s: Settings) => this.learn(s));
    session.on("goaway", (code: number, lastStreamId: number, data?: Buffer) => {
      this.goawayLastStreamId = lastStreamId;
      this.goawayCode = code;
      const tooManyPings = code === h2.NGHTTP2_ENHANCE_YOUR_CALM && data?.equals(TOO_MANY_PINGS) === true;
      this.disconnect(tooManyPings);
    });
    // A session error is followed by its close; the listener keeps it from being thrown.
    session.on("error", () => this.disconnect(false));
    session.once("close", () => this.disconnect(false));
    session.socket.once("close", () => this.disconnect(false));
    const socket = session.socket;
    this.authContext =
      socket instanceof TLSSocket && socket.authorized
        ? { transportSecurityType: "ssl", sslPeerCertificate: socket.getPeerCertificate() }
        : {};
    if (keepalive.withoutCalls) this.schedulePing();
  }

  /** Whether it takes new streams. */
  get usable(): boolean {
    return !this.gone && !this.session.closed && !this.session.destroyed;
  }

  /**
   * Whether the connection went away under its streams (closed or failed, not
   * by GOAWAY alone). A server that ends the connection with an error code
   * (grpc-js's `forceShutdown`: GOAWAY with CANCEL) closes its streams with
   * that code, and they end as the code says (CANCELLED), as on grpc-js.
   */
  get dropped(): boolean {
    return this.session.destroyed && (this.goawayCode === undefined || this.goawayCode === h2.NGHTTP2_NO_ERROR);
  }

  /**
   * Whether the server never processed `stream`: its id is above the last
   * one of the server's GOAWAY, or it was never sent (no id yet) on a
   * connection that is gone.
   */
  neverProcessed(stream: ClientHttp2Stream): boolean {
    if (this.goawayLastStreamId === undefined) return false;
    return stream.id === undefined ? this.gone : stream.id > this.goawayLastStreamId;
  }

  /** Opens a stream; throws if the session takes none (the caller picks again). */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    return this.session.request(headers);
  }

  /** A call started on it. */
  callStarted(): void {
    if (this.activeCalls++ === 0) {
      this.session.ref();
      if (!this.keepalive.withoutCalls) {
        if (this.pingDue) this.ping();
        else this.schedulePing();
      }
    }
  }

  /** A call on it ended. */
  callEnded(): void {
    if (--this.activeCalls === 0 && !this.session.destroyed) this.session.unref();
  }

  /** Closes gracefully: streams open finish, no new ones. */
  shutdown(): void {
    this.stopPinging();
    this.gone = true;
    if (!this.session.closed && !this.session.destroyed) this.session.close();
  }

  private learn(settings: Settings): void {
    this.streamLimit = settings.maxConcurrentStreams ?? UNLIMITED_STREAMS;
  }

  private disconnect(tooManyPings: boolean): void {
    this.stopPinging();
    if (this.gone) return;
    this.gone = true;
    this.owner.disconnected(this, tooManyPings);
  }

  // --- Keepalive (grpc-js's transport.ts, the same timing) ------------------

  private canPing(): boolean {
    return this.keepalive.timeMs > 0 && !this.gone && (this.keepalive.withoutCalls || this.activeCalls > 0);
  }

  private schedulePing(): void {
    if (!this.canPing() || this.pingTimer !== undefined) return;
    this.pingTimer = setTimeout(() => {
      this.pingTimer = undefined;
      this.ping();
    }, this.keepalive.timeMs);
    this.pingTimer.unref();
  }

  private ping(): void {
    this.pingDue = false;
    if (!this.canPing()) {
      this.pingDue = this.keepalive.timeMs > 0 && !this.gone;
      return;
    }
    // The timer now waits for the answer: unanswered in time, the connection is dropped.
    this.pingTimer = setTimeout(() => {
      this.pingTimer = undefined;
      this.drop();
    }, this.keepalive.timeoutMs);
    this.pingTimer.unref();
    let sent = false;
    try {
      sent = this.session.ping((error) => {
        this.stopPinging();
        if (error) this.drop();
        else this.schedulePing();
      });
    } catch {
      sent = false;
    }
    if (!sent) this.drop();
  }

  private stopPinging(): void {
    if (this.pingTimer !== undefined) clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
  }

  /** The server stopped answering: its calls fail UNAVAILABLE ("Connection dropped") and picks leave it. */
  private drop(): void {
    this.stopPinging();
    this.disconnect(false);
    this.session.destroy();
  }
}
