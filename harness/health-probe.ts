/*
 * A grpc.health.v1 client as Kubernetes' gRPC probe and grpc-health-probe
 * are: plain grpc-js (a generic `Client`), the two messages encoded here by
 * hand, nothing from balanced-grpc. It checks the server's health service
 * against the protocol, not against the library's own codec.
 */
import { Client, type ClientReadableStream, credentials, type ServiceError, type StatusObject } from "@grpc/grpc-js";

/** `HealthCheckResponse.ServingStatus`, by name. */
export type HealthStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";
const STATUS_NAMES: HealthStatus[] = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];

const CHECK = "/grpc.health.v1.Health/Check";
const WATCH = "/grpc.health.v1.Health/Watch";

/** `HealthCheckRequest { string service = 1; }`: tag 0x0a, the length as a varint, UTF-8 bytes. */
function encodeRequest(service: string): Buffer {
  const name = Buffer.from(service, "utf8");
  if (name.length === 0) return Buffer.alloc(0); // proto3 leaves a default value out
  const length: number[] = [];
  for (let n = name.length; ; n >>>= 7) {
    if (n < 0x80) {
      length.push(n);
      break;
    }
    length.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x0a, ...length]), name]);
}

/** `HealthCheckResponse { ServingStatus status = 1; }`: tag 0x08 and a one-byte varint (the statuses are 0–3). */
function decodeResponse(bytes: Buffer): HealthStatus {
  if (bytes.length === 0) return "UNKNOWN";
  if (bytes.length !== 2 || bytes[0] !== 0x08)
    throw new Error(`unexpected HealthCheckResponse ${bytes.toString("hex")}`);
  const status = STATUS_NAMES[bytes[1]!];
  if (status === undefined) throw new Error(`unknown serving status ${bytes[1]}`);
  return status;
}

/** One status a Watch stream received, with the instant (performance.now()) it arrived. */
export interface WatchUpdate {
  status: HealthStatus;
  at: number;
}

/** An open Watch stream. */
export interface HealthWatch {
  /** Every status received so far, in order. */
  readonly updates: readonly WatchUpdate[];
  /** The next update not read yet; rejects if the stream ends first. */
  next(): Promise<WatchUpdate>;
  /** Reads updates until one says `status`; rejects if the stream ends first. */
  until(status: HealthStatus): Promise<WatchUpdate>;
  /** Resolves when the stream ends, with its status and the instant it ended. */
  readonly ended: Promise<{ code: number; details: string; at: number }>;
  cancel(): void;
}

/** A health client of one server, on a connection of its own. */
export interface HealthProbe {
  /** `Check(service)`; rejects with the grpc-js error (its `code`) when the call fails. */
  check(service?: string, timeoutMs?: number): Promise<HealthStatus>;
  watch(service?: string): HealthWatch;
  close(): void;
}

/** A probe of `address` (`host:port`). */
export function healthProbe(address: string): HealthProbe {
  // A connection of its own, as kubelet opens one per probe: not shared through grpc-js's global pool.
  const client = new Client(address, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
  return {
    check: (service = "", timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          CHECK,
          encodeRequest,
          decodeResponse,
          service,
          { deadline: Date.now() + timeoutMs },
          (error: ServiceError | null, status?: HealthStatus) => (error ? reject(error) : resolve(status!)),
        );
      }),
    watch: (service = "") => watchStream(client.makeServerStreamRequest(WATCH, encodeRequest, decodeResponse, service)),
    close: () => client.close(),
  };
}

function watchStream(stream: ClientReadableStream<HealthStatus>): HealthWatch {
  const updates: WatchUpdate[] = [];
  let read = 0;
  let end: { code: number; details: string; at: number } | undefined;
  let wake: (() => void) | undefined;
  stream.on("data", (status: HealthStatus) => {
    updates.push({ status, at: performance.now() });
    wake?.();
  });
  // A cancelled or failed stream also emits "error"; its status comes with "status" either way.
  stream.on("error", () => {});
  const ended = new Promise<{ code: number; details: string; at: number }>((resolve) => {
    stream.on("status", ({ code, details }: StatusObject) => {
      end = { code, details, at: performance.now() };
      resolve(end);
      wake?.();
    });
  });
  const next = async (): Promise<WatchUpdate> => {
    while (read >= updates.length) {
      if (end) throw new Error(`Watch ended (${end.code} ${end.details}) after ${updates.map((u) => u.status)}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return updates[read++]!;
  };
  return {
    updates,
    next,
    async until(status) {
      for (;;) {
        const update = await next();
        if (update.status === status) return update;
      }
    },
    ended,
    cancel: () => stream.cancel(),
  };
}
