import { type ClientHttp2Session, connect as connectHttp2, getDefaultSettings, type Settings } from "node:http2";
import { connect as connectSocket, type Socket } from "node:net";
import type { experimental } from "@grpc/grpc-js";
import { connectThroughProxy, type Tunnel } from "./http-proxy.js";

type SecureConnector = experimental.SecureConnector;
type SubchannelAddress = experimental.SubchannelAddress;

/**
 * gRPC's connection backoff spec: a connection attempt may take at least
 * this long (MIN_CONNECT_TIMEOUT), or the current backoff if longer, before
 * it counts as failed. grpc-js sets no limit (a silent address waits for the
 * OS, minutes); 20 s is the spec's.
 */
export const MIN_CONNECT_TIMEOUT_MS = 20_000;

/** @internal A connected session and the server's first SETTINGS (what makes it ready). */
export interface Connected {
  session: ClientHttp2Session;
  settings: Settings;
}

/** @internal What a connection attempt needs besides the address. */
export interface ConnectSettings {
  /** The credentials' connector: plain, TLS, mTLS (grpc-js's `ChannelCredentials._createSecureConnector`). */
  secureConnector: SecureConnector;
  /** The host the session's URL names (`:authority` default, TLS server name is the connector's). */
  authority: string;
  /** `grpc-node.flow_control_window`: the initial window per stream, as grpc-js reads it. */
  flowControlWindow: number | undefined;
  /** `grpc-node.max_session_memory`, as grpc-js reads it (MiB). */
  maxSessionMemory: number | undefined;
  /** Through an HTTP CONNECT proxy (the address is the proxy's), or undefined to connect straight. */
  tunnel: Tunnel | undefined;
}

/** @internal A connection attempt under way. */
export interface Connecting {
  readonly connected: Promise<Connected>;
  /** Gives up: the socket is destroyed, and `connected` rejects. */
  cancel(): void;
}

/**
 * @internal
 * Connects to `address` as grpc-js's Http2SubchannelConnector does: a TCP (or
 * unix socket) connection (or a tunnel through the HTTP proxy at `address`), secured by the credentials' connector, an HTTP/2
 * session over it; ready once the server's first SETTINGS frame arrived
 * (every HTTP/2 server sends one first), so its stream limit is known before
 * the first call. Rejects with a message naming the cause, or once
 * `timeoutMs` passed (the socket is then destroyed).
 */
export function connectSession(address: SubchannelAddress, settings: ConnectSettings, timeoutMs: number): Connecting {
  let cancel!: () => void;
  const connected = new Promise<Connected>((resolve, reject) => {
    let socket: Socket | undefined;
    let session: ClientHttp2Session | undefined;
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session?.destroy();
      socket?.destroy();
      reject(new Error(message));
    };
    const timer = setTimeout(() => fail(`Connection timed out after ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    cancel = () => fail("Connection attempt cancelled");
    const start = async () => {
      await settings.secureConnector.waitForReady();
      if (settled) return;
      socket = settings.tunnel
        ? await connectThroughProxy(address, settings.tunnel)
        : await new Promise<Socket>((done, failed) => {
            const tcp = "path" in address ? connectSocket(address.path) : connectSocket(address.port, address.host);
            socket = tcp;
            tcp.once("connect", () => {
              tcp.removeListener("error", failed);
              done(tcp);
            });
            tcp.once("error", failed);
          });
      if (settled) {
        socket.destroy();
        return;
      }
      socket.setNoDelay(true);
      const secured = await settings.secureConnector.connect(socket);
      if (settled) {
        secured.socket.destroy();
        return;
      }
      socket = secured.socket;
      // A TLS server that refuses the client (mTLS without a certificate) alerts after the client's
      // handshake is done: the socket may close before, or while, HTTP/2 starts on it.
      if (socket.destroyed) {
        fail("Connection closed before starting HTTP/2 handshake");
        return;
      }
      const socketClosed = () => fail("Connection closed before the server's SETTINGS");
      const socketFailed = (error: Error) => fail(error.message);
      socket.once("close", socketClosed);
      socket.once("error", socketFailed);
      const window = settings.flowControlWindow ?? getDefaultSettings().initialWindowSize ?? 65_535;
      const opened = connectHttp2(`${secured.secure ? "https" : "http"}://${settings.authority}`, {
        createConnection: () => secured.socket,
        settings: { initialWindowSize: window },
        maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
        maxSessionMemory: settings.maxSessionMemory ?? Number.MAX_SAFE_INTEGER,
      });
      session = opened;
      const closed = () => fail("Connection closed before the server's SETTINGS");
      const errored = (error: Error) => fail(error.message);
      opened.once("error", errored);
      opened.once("close", closed);
      opened.once("remoteSettings", (remote: Settings) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opened.removeListener("error", errored);
        opened.removeListener("close", closed);
        secured.socket.removeListener("close", socketClosed);
        secured.socket.removeListener("error", socketFailed);
        // A larger window for the whole connection, as grpc-js opens it (its streams' windows are set above).
        if (window > 65_535) opened.setLocalWindowSize(window);
        resolve({ session: opened, settings: remote });
      });
    };
    start().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
  });
  return { connected, cancel: () => cancel() };
}
