/**
 * @internal
 * A message as gRPC puts it on the wire (PROTOCOL-HTTP2 "Length-Prefixed-Message"):
 * one byte compressed-flag (0: this transport never compresses what it sends),
 * four bytes big-endian length, the bytes. One buffer, so a unary request is
 * one write: `Buffer.allocUnsafe` takes small ones from Node's shared pool.
 */
export function frameMessage(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(message.length + 5);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return framed;
}

/** @internal Who takes the messages a decoder completes (the call: no closure per chunk). */
export interface MessageSink {
  /** One message: its bytes, and whether the sender compressed them. */
  received(bytes: Buffer, compressed: boolean): void;
}

/** @internal Thrown by {@link MessageDecoder.write} for a message over the receive limit. */
export class MessageTooLargeError extends Error {
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`Received message larger than max (${length} vs. ${limit})`);
  }
}

/**
 * @internal
 * Splits the DATA of one response stream into messages, however HTTP/2 cut
 * them: a message whole inside one chunk is a view of it (no copy, the common
 * case); one that spans chunks is gathered into its own buffer. A message
 * longer than `maxLength` (-1: no limit) throws {@link MessageTooLargeError}
 * as soon as its length prefix arrives.
 */
export class MessageDecoder {
  /** The prefix of a message cut by a chunk boundary (made when one is), its bytes read so far (0–5), and the body. */
  private prefix: Buffer | undefined;
  private prefixRead = 0;
  private body: Buffer | undefined;
  private bodyRead = 0;

  constructor(private readonly maxLength: number) {}

  /** Whether a message is half received (a stream that ends here was cut short). */
  get partial(): boolean {
    return this.prefixRead > 0;
  }

  /** Hands `sink` every message `chunk` completes, in order. */
  write(chunk: Buffer, sink: MessageSink): void {
    let offset = 0;
    const end = chunk.length;
    while (offset < end) {
      if (this.prefixRead === 0 && end - offset >= 5) {
        // Fast path: a whole prefix, and maybe the whole message, in this chunk.
        const length = chunk.readUInt32BE(offset + 1);
        this.check(length);
        const compressed = chunk[offset] === 1;
        if (end - offset - 5 >= length) {
          const start = offset + 5;
          offset = start + length;
          sink.received(chunk.subarray(start, offset), compressed);
          continue;
        }
        this.prefix ??= Buffer.allocUnsafe(5);
        chunk.copy(this.prefix, 0, offset, offset + 5);
        this.prefixRead = 5;
        offset += 5;
        this.body = Buffer.allocUnsafe(length);
        this.bodyRead = 0;
        continue;
      }
      if (this.prefixRead < 5) {
        this.prefix ??= Buffer.allocUnsafe(5);
        const prefix = this.prefix;
        const take = Math.min(5 - this.prefixRead, end - offset);
        chunk.copy(prefix, this.prefixRead, offset, offset + take);
        this.prefixRead += take;
        offset += take;
        if (this.prefixRead < 5) return;
        const length = prefix.readUInt32BE(1);
        this.check(length);
        this.body = Buffer.allocUnsafe(length);
        this.bodyRead = 0;
      }
      const body = this.body!;
      const take = Math.min(body.length - this.bodyRead, end - offset);
      chunk.copy(body, this.bodyRead, offset, offset + take);
      this.bodyRead += take;
      offset += take;
      if (this.bodyRead === body.length) {
        const compressed = this.prefix![0] === 1;
        this.prefixRead = 0;
        this.body = undefined;
        sink.received(body, compressed);
      }
    }
  }

  private check(length: number): void {
    if (this.maxLength !== -1 && length > this.maxLength) throw new MessageTooLargeError(length, this.maxLength);
  }
}
