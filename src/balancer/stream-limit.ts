import { connect, type Settings } from "node:http2";
import { connect as connectSocket } from "node:net";
import type { experimental } from "@grpc/grpc-js";
import { type Clock, systemClock } from "../clock.js";
import { ASSUMED_STREAM_LIMIT, STREAM_LIMIT_PROBE_TIMEOUT_MS, UNLIMITED_STREAMS } from "../defaults.js";
import { doubling } from "../doubling.js";

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
export type StreamLimitProbe = (address: experimental.SubchannelAddress) => Promise<number | undefined>;
type Probe = StreamLimitProbe;

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

/** Backoff between failed probes of an address, ms: doubling from the first to the last. */
const PROBE_RETRY_MS = { first: 1_000, max: 30_000 } as const;

/**
 * Probes of one address start at most this often, ms: connections that
 * servers rotate (max connection age) come back every second or so, and a
 * probe each time would double the handshakes. A restarted server's limit
 * is still learned within this long.
 */
const MIN_PROBE_INTERVAL_MS = 5_000;

/** What is known of one address. */
interface AddressLimit {
  limit: StreamLimit;
  endpoint: experimental.Endpoint;
  /** When a connection to it last went down (its server may have restarted since, with another limit). */
  downAt: number;
  /** When the probe that gave `limit` started, or the one under way did; -Infinity for none. */
  probedAt: number;
  probing: boolean;
  /** Failed probes in a row, and the retry due after the last. */
  failures: number;
  retry: unknown;
}

/**
 * @internal
 * The stream limit of each address a balancer connects to: the user's
 * `streamsPerConnection` if set; else, where probing is allowed, what the
 * address's server advertised; else assumed.
 *
 * An address is probed whenever a connection to it becomes ready and no
 * probe has started since a connection to it last went down: when it is new,
 * and again after its server came back (a restarted server may have another
 * limit). A probe that fails is tried again with backoff while a connection
 * to the address is up, so a server that starts after its client is learned
 * once it listens. Until the first answer, {@link ASSUMED}.
 */
export class StreamLimits {
  private readonly addresses = new Map<string, AddressLimit>();
  private stopped = false;

  constructor(
    private readonly option: number | undefined,
    private readonly probing: boolean,
    /** Called when an address's limit changed from what {@link of} returned before. */
    private readonly onLearned: (key: string) => void,
    private readonly probe: Probe = probeStreamLimit,
    /** Whether a connection to the address is up now: failed probes are retried only then. */
    private readonly isUp: (key: string) => boolean = () => true,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The limit in force for the address `key` (an endpoint's). */
  of(key: string, endpoint: experimental.Endpoint): StreamLimit {
    if (this.option !== undefined) return { value: this.option, source: "option" };
    return this.address(key, endpoint).limit;
  }

  /**
   * A connection to `key` is being made: probe a new address now, beside it,
   * so its limit is usually known by the time the connection is ready.
   */
  connecting(key: string, endpoint: experimental.Endpoint): void {
    if (this.option !== undefined || !this.probing || this.stopped) return;
    const address = this.address(key, endpoint);
    if (!address.probing && address.probedAt === Number.NEGATIVE_INFINITY && address.failures === 0) {
      this.start(key, address);
    }
  }

  /** A connection to `key` became ready: probe the address if nothing was learned of it since it was last down. */
  ready(key: string, endpoint: experimental.Endpoint): void {
    if (this.option !== undefined || !this.probing || this.stopped) return;
    const address = this.address(key, endpoint);
    if (address.probing || address.probedAt > address.downAt) return;
    if (address.failures > 0) {
      // Earlier probes failed (the server was not up yet): it is up now, no need to wait for the retry.
      this.clearRetry(address);
      this.start(key, address);
      return;
    }
    if (address.retry !== undefined) return;
    const wait = address.probedAt + MIN_PROBE_INTERVAL_MS - this.clock.now();
    if (wait > 0) this.later(key, address, wait);
    else this.start(key, address);
  }

  /** A connection to `key` went down (a crash, a restart, max age): what is learned next is the new server's. */
  down(key: string): void {
    const address = this.addresses.get(key);
    if (address) address.downAt = this.clock.now();
  }

  /** The balancer no longer connects to `key`: its retries stop, and its limit is forgotten. */
  forget(key: string): void {
    const address = this.addresses.get(key);
    if (address) this.clearRetry(address);
    this.addresses.delete(key);
  }

  /** The balancer is gone: probes still under way change nothing, and no retry is left. */
  stop(): void {
    this.stopped = true;
    for (const address of this.addresses.values()) this.clearRetry(address);
  }

  private address(key: string, endpoint: experimental.Endpoint): AddressLimit {
    let address = this.addresses.get(key);
    if (!address) {
      address = {
        limit: ASSUMED,
        endpoint,
        downAt: Number.NEGATIVE_INFINITY,
        probedAt: Number.NEGATIVE_INFINITY,
        probing: false,
        failures: 0,
        retry: undefined,
      };
      this.addresses.set(key, address);
    }
    return address;
  }

  private start(key: string, address: AddressLimit): void {
    const target = address.endpoint.addresses[0];
    if (!target) return;
    address.probing = true;
    const startedAt = this.clock.now();
    address.probedAt = startedAt;
    void this.probe(target).then((value) => {
      address.probing = false;
      if (this.stopped || this.addresses.get(key) !== address) return;
      if (value === undefined) {
        this.failed(key, address);
        return;
      }
      address.failures = 0;
      const changed = address.limit.source !== "server" || address.limit.value !== value;
      address.limit = { value, source: "server" };
      if (changed) this.onLearned(key);
    });
  }

  /** A probe failed: tried again later, with backoff, while a connection to the address is up. */
  private failed(key: string, address: AddressLimit): void {
    const delay = doubling(PROBE_RETRY_MS.first, PROBE_RETRY_MS.max, address.failures);
    address.failures++;
    address.probedAt = Number.NEGATIVE_INFINITY; // nothing learned: the retry probes, or else the next ready connection
    this.later(key, address, delay);
  }

  /** Probes the address after `delay`, if a connection to it is up then (else the next ready one does). */
  private later(key: string, address: AddressLimit, delay: number): void {
    address.retry = this.clock.setTimeout(() => {
      address.retry = undefined;
      if (this.stopped || this.addresses.get(key) !== address || address.probing) return;
      if (this.isUp(key)) this.start(key, address);
    }, delay);
  }

  private clearRetry(address: AddressLimit): void {
    if (address.retry !== undefined) this.clock.clearTimeout(address.retry);
    address.retry = undefined;
  }
}
