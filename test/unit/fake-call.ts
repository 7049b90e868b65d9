import { Metadata, type StatusObject, status } from "@grpc/grpc-js";
import { noteOf } from "../../src/balancer/pick-note.js";
import { CallPolicy } from "../../src/call/call-policy.js";
import type { ResolvedHedging } from "../../src/call/hedging-settings.js";
import type { ResolvedRetryBudget, ResolvedRetrySettings } from "../../src/call/retry-settings.js";
import { statusAfterClose } from "../../src/channel/refused-stream.js";
import { ReplayingCall } from "../../src/channel/replaying-call.js";
import type { Clock } from "../../src/clock.js";
import { FakeClock } from "./fake-clock.js";

type Listener = {
  onReceiveMetadata(metadata: Metadata): void;
  onReceiveMessage(message: Buffer): void;
  onReceiveStatus(status: StatusObject): void;
};

/** A grpc-js call that records what it is asked to do and answers when the test says so. */
export class FakeCall {
  listener: Listener | undefined;
  metadata: Metadata | undefined;
  readonly sent: Buffer[] = [];
  /** Write callbacks not yet called: grpc-js's flow control, under the test's thumb. */
  readonly pendingWrites: (() => void)[] = [];
  halfClosed = false;
  reads = 0;
  cancelled: { code: number; details: string } | undefined;

  constructor(
    readonly method: string,
    readonly deadline: Date | number,
  ) {}

  start(metadata: Metadata, listener: Listener): void {
    this.metadata = metadata;
    this.listener = listener;
    // As the balancer's picker does: the attempt's note learns where it went.
    const note = noteOf(metadata);
    if (note) note.route = { connection: connectionOf(this.peer), backend: this.peer };
  }
  sendMessageWithContext(context: { callback?: () => void }, message: Buffer): void {
    this.sent.push(message);
    if (context.callback) this.pendingWrites.push(context.callback);
  }
  halfClose(): void {
    this.halfClosed = true;
  }
  startRead(): void {
    this.reads++;
  }
  /** As grpc-js: a cancelled call that has not ended ends with that status, on the next tick. */
  cancelWithStatus(code: number, details: string): void {
    this.cancelled = { code, details };
    if (this.listener && !this.ended) {
      process.nextTick(() => {
        if (!this.ended) this.end(code, details);
      });
    }
  }
  /** Whether its status went out. */
  ended = false;
  /** The backend this attempt went to, as grpc-js's getPeer() reports it. */
  peer = "fake";
  getPeer(): string {
    return this.peer;
  }
  getCallNumber(): number {
    return 0;
  }
  setCredentials(): void {}
  getAuthContext(): null {
    return null;
  }

  /** Confirms every write so far, as grpc-js does once a message is on its way. */
  flushWrites(): void {
    for (const callback of this.pendingWrites.splice(0)) callback();
  }
  header(entries: Record<string, string> = {}): void {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(entries)) metadata.set(k, v);
    this.listener!.onReceiveMetadata(metadata);
  }
  message(bytes: Buffer): void {
    this.listener!.onReceiveMessage(bytes);
  }
  end(code: number = status.OK, details = "", trailer: Record<string, string> = {}): void {
    this.ended = true;
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(trailer)) metadata.set(k, v);
    this.listener!.onReceiveStatus({ code, details, metadata });
  }
  /** The server refused the stream unprocessed (GOAWAY, RST_STREAM REFUSED_STREAM), as grpc-js reports it. */
  refuse(): void {
    this.end(status.UNAVAILABLE, "Stream refused by server");
  }
}

/** One fake connection per backend: its id. */
const connectionIds = new Map<string, number>();
export function connectionOf(backend: string): number {
  let id = connectionIds.get(backend);
  if (id === undefined) {
    id = connectionIds.size + 1;
    connectionIds.set(backend, id);
  }
  return id;
}

/** The backends an attempt's pick was asked to pass over, if any. */
export function avoidedBackends(metadata: Metadata): string[] | undefined {
  const avoid = noteOf(metadata)?.avoid;
  return avoid && [...avoid.backends];
}

/**
 * A channel as the engine sees it, over fake grpc-js calls: as BalancedChannel
 * does, `newCall` gives the SDK's real ReplayingCall, whose attempts are
 * the FakeCalls (`calls`, `last`) that `attempt` hands out, as grpc-js's
 * channel would. So every call kind meets the real replay mechanism.
 */
export class FakeChannel {
  closed = false;
  /** The timers of replays that wait: moved by the test. */
  readonly clock = new FakeClock();
  maxMetadataSize = 65_536;
  replays = 0;
  readonly calls: FakeCall[] = [];
  /** The backends attempts go to, in turn. */
  peers = ["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"];

  newCall(method: string, deadline: Date | number, host: null, parent: null, flags: number): ReplayingCall {
    return new ReplayingCall(this as never, [method, deadline, host, parent, flags]);
  }
  attempt(method: string, deadline: Date | number): FakeCall {
    if (this.closed) throw new Error("closed");
    const call = new FakeCall(method, deadline);
    call.peer = this.peers[this.calls.length % this.peers.length]!;
    this.calls.push(call);
    return call;
  }
  replayed(): void {
    this.replays++;
  }
  /** Engine calls between attempts, as the channel keeps them: close() would end them. */
  readonly between = new Set<() => void>();
  waiting(end: () => void): () => void {
    this.between.add(end);
    return () => this.between.delete(end);
  }
  /** Bytes kept for replays, and the cap (the channel's, unless a test lowers it). */
  keptBytes = 0;
  keepCap = Number.POSITIVE_INFINITY;
  keep(bytes: number): boolean {
    if (this.keptBytes + bytes > this.keepCap) return false;
    this.keptBytes += bytes;
    return true;
  }
  forget(bytes: number): void {
    this.keptBytes -= bytes;
  }
  /** Calls whose final status went to their caller. */
  settledCalls = 0;
  settled(): void {
    this.settledCalls++;
  }
  explain(status: StatusObject, responded: boolean): StatusObject {
    return statusAfterClose(status, responded, this.closed);
  }
  get last(): FakeCall {
    return this.calls.at(-1)!;
  }
}

/** Resolves after pending immediates (a replay runs on the next turn of the event loop). */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A client's call policy for engine tests: retries as given, no retry budget and no hedging unless given. */
export const policyOf = (
  retry: ResolvedRetrySettings | false,
  budget: ResolvedRetryBudget | false = false,
  hedging: ResolvedHedging | false = false,
  clock?: Clock,
) => new CallPolicy(retry, budget, hedging, clock);
