import { connect, type Settings } from "node:http2";
import { connect as connectSocket } from "node:net";
import type { experimental } from "@grpc/grpc-js";
import { ASSUMED_STREAM_LIMIT, STREAM_LIMIT_PROBE_TIMEOUT_MS, UNLIMITED_STREAMS } from "../defaults.js";

/**
 * Where a connection's stream limit came from: what the server advertised,
 * the `streamsPerConnection` option, or a limit assumed for want of either
 * (`ASSUMED_STREAM_LIMIT` in defaults.ts).
 */
export type StreamLimitSource = "server" | "option" | "assumed";

/** Concurrent calls (HTTP/2 streams) a connection may carry before more wait inside HTTP/2. */
export interface StreamLimit {
  readonly value: number;
  readonly source: StreamLimitSource;
}

/** Reads one server's advertised limit; undefined when it could not be read. */
type Probe = (address: experimental.SubchannelAddress) => Promise<number | undefined>;

const ASSUMED: StreamLimit = { value: ASSUMED_STREAM_LIMIT, source: "assumed" };

/**
 * @internal
 * Reads SETTINGS_MAX_CONCURRENT_STREAMS from the server at `address`, on a
 * connection of its own. grpc-js keeps the SETTINGS its own connections
 * receive inside its transport (no public API, channelz included, exposes
 * them), so this opens a plain-text HTTP/2 connection with Node's public
 * `http2.connect`, reads the server's first SETTINGS frame (which every
 * HTTP/2 server sends first) and closes it: no stream is opened, no call made.
 * A server that sets no limit allows 2^32 − 1. Resolves to undefined on any
 * error or after {@link STREAM_LIMIT_PROBE_TIMEOUT_MS}.
 */
export const probeStreamLimit: Probe = (address) =>
  new Promise((resolve) => {
    const session =
      "path" in address
        ? connect("http://localhost", { createConnection: () => connectSocket(address.path) })
        : connect(`http://${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`);
    const done = (limit: number | undefined) => {
      clearTimeout(timer);
      session.destroy();
      resolve(limit);
    };
    const timer = setTimeout(() => done(undefined), STREAM_LIMIT_PROBE_TIMEOUT_MS).unref();
    session.unref(); // a probe never keeps the process alive
    session.once("remoteSettings", (settings: Settings) => done(settings.maxConcurrentStreams ?? UNLIMITED_STREAMS));
    session.once("error", () => done(undefined));
    session.once("close", () => done(undefined));
  });

/**
 * @internal
 * The stream limit of each address a balancer connects to: the user's
 * `streamsPerConnection` if set; else, where probing is allowed, what the
 * address's server advertised (probed once per address, {@link ASSUMED}
 * until it answers, and for good if it cannot be read); else assumed.
 */
export class StreamLimits {
  private readonly learned = new Map<string, StreamLimit>();
  private stopped = false;

  constructor(
    private readonly option: number | undefined,
    private readonly probing: boolean,
    /** Called when an address's limit changed from what {@link of} returned before. */
    private readonly onLearned: (key: string) => void,
    private readonly probe: Probe = probeStreamLimit,
  ) {}

  /** The limit in force for the address `key` (an endpoint's); starts its probe the first time. */
  of(key: string, endpoint: experimental.Endpoint): StreamLimit {
    if (this.option !== undefined) return { value: this.option, source: "option" };
    const known = this.learned.get(key);
    if (known) return known;
    this.learned.set(key, ASSUMED);
    const address = endpoint.addresses[0];
    if (this.probing && address) {
      void this.probe(address).then((value) => {
        if (this.stopped || value === undefined) return;
        this.learned.set(key, { value, source: "server" });
        this.onLearned(key);
      });
    }
    return ASSUMED;
  }

  /** The balancer is gone: probes still under way change nothing. */
  stop(): void {
    this.stopped = true;
  }
}
