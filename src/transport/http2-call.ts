import {
  type ClientHttp2Stream,
  constants as h2,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
} from "node:http2";
import { type experimental, Metadata, status as Status, type StatusObject } from "@grpc/grpc-js";
import { MAX_TIMER_MS } from "../check.js";
import { statusFromHttp, statusFromReset, statusFromTrailers, timeoutHeader } from "./call-status.js";
import { DecompressedTooLargeError, decompress } from "./decompress.js";
import { metadataFromHeaders, type RequestBase, requestHeaders } from "./headers.js";
import type { Http2Transport } from "./http2-transport.js";
import { frameMessage, MessageDecoder, type MessageSink, MessageTooLargeError } from "./message-framing.js";

type CallStream = experimental.CallStream;
type Listener = Parameters<CallStream["start"]>[1];
type MessageContext = Parameters<CallStream["sendMessageWithContext"]>[0];
type CallCredentials = Parameters<CallStream["setCredentials"]>[0];
type OnCallEnded = experimental.PickResult["onCallEnded"];

/** @internal Where a call gets its stream: the channel's picks, or one subchannel (a health Watch). */
export interface CallStarter {
  /** The headers every call sends. */
  readonly base: RequestBase;
  /** `grpc.max_receive_message_length` (-1: none) and `grpc.max_send_message_length`. */
  readonly maxReceiveLength: number;
  readonly maxSendLength: number;
  /** Starts the call on a stream ({@link Http2Call.open}), now or once one can be had, or fails it. */
  startCall(call: Http2Call): void;
  /** The call ended before it had a stream: stop holding it. */
  forget(call: Http2Call): void;
}

/** The call a stream carries, for the stream's listeners (shared functions, not a closure per call). */
const CALL = Symbol("balanced-grpc.call");
type CallStreamOf = ClientHttp2Stream & { [CALL]: Http2Call };

function onResponse(this: CallStreamOf, headers: IncomingHttpHeaders, flags: number): void {
  this[CALL].response(headers, flags);
}
function onTrailers(this: CallStreamOf, headers: IncomingHttpHeaders): void {
  this[CALL].trailers(headers);
}
function onData(this: CallStreamOf, chunk: Buffer): void {
  this[CALL].data(chunk);
}
function onEnd(this: CallStreamOf): void {
  this[CALL].readsEnded();
}
function onClose(this: CallStreamOf): void {
  this[CALL].closed();
}
function onError(this: CallStreamOf, error: NodeJS.ErrnoException): void {
  this[CALL].streamError(error);
}

let lastCallNumber = 0;

interface PendingWrite {
  framed: Buffer;
  callback: (() => void) | undefined;
}

/**
 * @internal
 * One attempt of a call, straight on an HTTP/2 stream: grpc-js's `Call`
 * interface (what the SDK's engine and its `ReplayingCall` drive), with
 * grpc-js's semantics where the engine relies on them:
 *
 * - A message is handed to the listener only after `startRead()`, one per
 *   read; messages that arrive before are held, and the stream is paused
 *   (HTTP/2 flow control then holds the server back).
 * - The status comes once, after every message was handed over (or at once
 *   when it is not OK), and never from inside a method the caller called
 *   (`start`, `cancelWithStatus`, …): those deliver it on the next tick.
 *   From the stream's own events it is delivered at once.
 * - Before the pick gives it a stream, writes and the half-close wait.
 *
 * Per call: this object, the request headers, one framed buffer per
 * message, the response's metadata objects; no closure, no promise.
 */
export class Http2Call implements CallStream, MessageSink {
  private metadata: Metadata | undefined;
  private listener: Listener | undefined;
  private stream: ClientHttp2Stream | undefined;
  private transport: Http2Transport | undefined;
  private onCallEnded: OnCallEnded = null;
  private readonly number = ++lastCallNumber;
  private pending: PendingWrite[] | undefined;
  private pendingHalfClose = false;
  private decoder: MessageDecoder | undefined;
  private encoding: string | undefined;
  private httpStatus: number | undefined;
  /** Whether the response's headers came (then the server saw the call). */
  private responded = false;
  private serverEnded = false;
  /** No more DATA will arrive: every byte received was decoded. */
  private readsDone = false;
  private canPush = false;
  private unpushed: Buffer[] | undefined;
  private streamErrorSeen: NodeJS.ErrnoException | undefined;
  private finalStatus: StatusObject | undefined;
  private statusOutput = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Per-call credentials (`setCredentials`), composed with the channel's by the starter. */
  credentials: CallCredentials | undefined;
  /** What call credentials added to this attempt's metadata (the caller's own is not changed). */
  private added: Metadata | undefined;

  constructor(
    private readonly starter: CallStarter,
    /** The method's path, `/package.Service/Method`. */
    readonly method: string,
    private readonly deadline: number,
  ) {}

  /** The caller's metadata (the pick reads its options; call credentials add to it). */
  get callMetadata(): Metadata {
    return this.metadata!;
  }

  /** Call credentials' metadata, sent with this attempt's. */
  addMetadata(metadata: Metadata): void {
    this.added = metadata;
  }

  /** Whether the call is over (a pick that completes now opens nothing). */
  get ended(): boolean {
    return this.statusOutput;
  }

  start(metadata: Metadata, listener: Listener): void {
    this.metadata = metadata;
    this.listener = listener;
    if (this.deadline !== Number.POSITIVE_INFINITY) {
      const left = this.deadline - Date.now();
      if (left <= 0) {
        this.cancelWithStatus(Status.DEADLINE_EXCEEDED, "Deadline exceeded");
        return;
      }
      // A deadline beyond a Node timer's range (about 24.8 days) gets no timer, as in grpc-js: a longer
      // delay would fire after 1 ms.
      if (left <= MAX_TIMER_MS) {
        this.deadlineTimer = setTimeout(
          () => this.cancelWithStatus(Status.DEADLINE_EXCEEDED, "Deadline exceeded"),
          left,
        );
      }
    }
    this.starter.startCall(this);
  }

  /**
   * Opens the call's stream on `transport` (the pick chose it); false if the
   * session takes no new stream (it is closing): the starter picks again.
   * A stream Node refuses for another reason (headers it will not send) ends
   * the call INTERNAL, as grpc-js ends it.
   */
  open(transport: Http2Transport, onCallStarted: (() => void) | null, onCallEnded: OnCallEnded): boolean {
    const timeout = this.deadline === Number.POSITIVE_INFINITY ? undefined : timeoutHeader(this.deadline, Date.now());
    let metadata = this.metadata!;
    if (this.added) {
      metadata = metadata.clone();
      metadata.merge(this.added);
    }
    let stream: ClientHttp2Stream;
    try {
      stream = transport.request(requestHeaders(metadata, this.method, this.starter.base, timeout));
    } catch (error) {
      if (!transport.usable) return false;
      const details = `Failed to start HTTP/2 stream with error ${(error as Error).message}`;
      this.finish({ code: Status.INTERNAL, details, metadata: new Metadata() }, false);
      return true;
    }
    this.stream = stream;
    this.transport = transport;
    (stream as CallStreamOf)[CALL] = this;
    stream.on("response", onResponse);
    stream.on("trailers", onTrailers);
    stream.on("data", onData);
    stream.on("close", onClose);
    stream.on("error", onError);
    transport.callStarted();
    onCallStarted?.();
    this.onCallEnded = onCallEnded;
    const pending = this.pending;
    if (pending) {
      this.pending = undefined;
      for (const { framed, callback } of pending) this.write(framed, callback);
    }
    if (this.pendingHalfClose) stream.end();
    return true;
  }

  /** The call cannot start (no connection, a closed channel): it ends with `status`, on the next tick. */
  failToStart(status: StatusObject): void {
    this.finish(status, false);
  }

  // --- grpc-js's Call, for the caller ----------------------------------------

  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    if (this.statusOutput) return;
    const { maxSendLength } = this.starter;
    if (maxSendLength !== -1 && message.length > maxSendLength) {
      this.cancelWithStatus(
        Status.RESOURCE_EXHAUSTED,
        `Attempted to send message with a size larger than ${maxSendLength}`,
      );
      return;
    }
    const framed = frameMessage(message);
    if (this.stream) this.write(framed, context.callback);
    else {
      this.pending ??= [];
      this.pending.push({ framed, callback: context.callback });
    }
  }

  halfClose(): void {
    const stream = this.stream;
    if (!stream) {
      this.pendingHalfClose = true;
      return;
    }
    if (!stream.writableEnded && !stream.destroyed) stream.end();
  }

  startRead(): void {
    if (this.statusOutput) return;
    const message = this.unpushed?.shift();
    if (message !== undefined) {
      // Held before: handed over on the next tick, as grpc-js does (never inside the caller's startRead()).
      process.nextTick(() => this.push(message));
      return;
    }
    this.canPush = true;
    if (this.stream?.isPaused()) this.stream.resume();
  }

  cancelWithStatus(code: Status, details: string): void {
    if (this.statusOutput) return;
    this.finish({ code, details, metadata: new Metadata() }, false);
  }

  getPeer(): string {
    return this.transport?.peer ?? "";
  }

  getCallNumber(): number {
    return this.number;
  }

  setCredentials(credentials: CallCredentials): void {
    this.credentials = credentials;
  }

  getAuthContext(): ReturnType<CallStream["getAuthContext"]> {
    return this.transport?.authContext ?? null;
  }

  // --- The stream's events -----------------------------------------------------

  /** @internal */
  response(headers: IncomingHttpHeaders, flags: number): void {
    if (this.statusOutput) return;
    this.responded = true;
    this.httpStatus = (headers as IncomingHttpStatusHeader)[":status"];
    if (flags & h2.NGHTTP2_FLAG_END_STREAM) {
      // Trailers-only: the status in the only headers.
      this.trailers(headers);
      return;
    }
    const encoding = headers["grpc-encoding"];
    if (typeof encoding === "string" && encoding !== "identity") this.encoding = encoding;
    this.listener!.onReceiveMetadata(metadataFromHeaders(headers));
  }

  /** @internal */
  trailers(headers: IncomingHttpHeaders): void {
    if (this.statusOutput) return;
    this.serverEnded = true;
    this.finalStatus = statusFromTrailers(headers, this.httpStatus);
    // Every DATA frame came before the trailers: those not handed over yet are held, or in the stream's
    // buffer (a paused stream); then its end says when they were all read. No 'end' listener otherwise.
    if (this.stream!.readableLength === 0) this.readsDone = true;
    else this.stream!.once("end", onEnd);
    this.maybeOutput();
  }

  /** @internal */
  data(chunk: Buffer): void {
    if (this.statusOutput) return;
    this.decoder ??= new MessageDecoder(this.starter.maxReceiveLength);
    try {
      this.decoder.write(chunk, this);
    } catch (error) {
      if (!(error instanceof MessageTooLargeError)) throw error;
      // A server that answers with an error page (HTTP status not 200) is that error, not a huge message.
      const status =
        this.httpStatus !== undefined && this.httpStatus !== 200
          ? statusFromHttp(this.httpStatus)
          : { code: Status.RESOURCE_EXHAUSTED, details: error.message, metadata: new Metadata() };
      this.finish(status, true);
    }
  }

  /** @internal A message the decoder completed. */
  received(bytes: Buffer, compressed: boolean): void {
    if (this.statusOutput) return;
    let message = bytes;
    if (compressed) {
      const inflated = decompress(bytes, this.encoding, this.starter.maxReceiveLength);
      if (inflated instanceof Error) {
        const code = inflated instanceof DecompressedTooLargeError ? Status.RESOURCE_EXHAUSTED : Status.INTERNAL;
        this.finish({ code, details: inflated.message, metadata: new Metadata() }, true);
        return;
      }
      message = inflated;
    }
    if (this.canPush && this.unpushed === undefined) {
      this.canPush = false;
      this.listener!.onReceiveMessage(message);
      return;
    }
    this.unpushed ??= [];
    this.unpushed.push(message);
    this.stream!.pause();
  }

  /** @internal */
  readsEnded(): void {
    this.readsDone = true;
    this.maybeOutput();
  }

  /** @internal */
  streamError(error: NodeJS.ErrnoException): void {
    // Node reports a stream reset as an error too; the close that follows maps its code.
    if (error.code !== "ERR_HTTP2_STREAM_ERROR") this.streamErrorSeen = error;
  }

  /** @internal The stream closed: without a status by now, its reset code (or the connection's end) says why. */
  closed(): void {
    if (this.statusOutput) return;
    const stream = this.stream!;
    this.readsDone = true;
    if (this.finalStatus) {
      this.maybeOutput();
      return;
    }
    const transport = this.transport!;
    this.finish(
      statusFromReset({
        rstCode: stream.rstCode,
        httpStatus: this.httpStatus,
        connectionDropped: transport.dropped,
        error: this.streamErrorSeen,
        unprocessed: !this.responded && transport.neverProcessed(stream),
      }),
      true,
    );
  }

  // --- Ending -------------------------------------------------------------------

  private write(framed: Buffer, callback: (() => void) | undefined): void {
    const stream = this.stream!;
    if (stream.writableEnded || stream.destroyed) {
      // The server ended the call already: nothing more goes out; the caller's callback still comes.
      if (callback) process.nextTick(callback);
      return;
    }
    if (callback) stream.write(framed, callback);
    else stream.write(framed);
  }

  private push(message: Buffer): void {
    if (this.statusOutput) return;
    this.listener!.onReceiveMessage(message);
    if (this.unpushed?.length === 0) this.unpushed = undefined;
    this.maybeOutput();
  }

  /** An OK status goes out once every message was handed over; any other at once. */
  private maybeOutput(): void {
    const status = this.finalStatus;
    if (!status || this.statusOutput) return;
    if (status.code !== Status.OK || (this.readsDone && !this.unpushed?.length)) this.finish(status, true);
  }

  /**
   * Ends the call with `status`, once: the stream is closed (reset with
   * CANCEL unless the server ended it), the pick and the connection are told,
   * the listener gets the status (`now`, from a stream event; else on the next tick).
   */
  private finish(status: StatusObject, now: boolean): void {
    if (this.statusOutput) return;
    this.statusOutput = true;
    this.finalStatus = status;
    this.unpushed = undefined;
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    const stream = this.stream;
    if (stream) {
      if (!stream.destroyed) {
        if (this.serverEnded) {
          if (!stream.writableEnded) stream.end();
          // Drain what is left unread, so the stream can close.
          if (stream.isPaused()) stream.resume();
        } else {
          stream.close(status.code === Status.OK ? h2.NGHTTP2_NO_ERROR : h2.NGHTTP2_CANCEL);
        }
      }
      this.transport!.callEnded();
      this.onCallEnded?.(status.code, status.details, status.metadata);
    } else {
      this.starter.forget(this);
    }
    if (now) this.listener!.onReceiveStatus(status);
    else process.nextTick(() => this.listener!.onReceiveStatus(status));
  }
}
