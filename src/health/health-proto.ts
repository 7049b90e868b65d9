/*
 * gRPC's health checking protocol, grpc.health.v1 (grpc/health/v1/health.proto
 * in grpc-proto): two messages of one field each and the service's two methods,
 * as nice-grpc serves them. Written by hand on `@bufbuild/protobuf/wire`, the
 * codec the SDK already ships, rather than loaded with a second protobuf
 * runtime (see docs/health-and-drain.md for why not nice-grpc-server-health or
 * grpc-health-check). `List` (added to the proto in 2024) is not served: a
 * client that calls it gets UNIMPLEMENTED, as from grpc-go's health server.
 *
 * Internal to the library (not exported from its entry).
 */
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";

/** The health service's full name, on the wire in each method's path. */
export const HEALTH_SERVICE_NAME = "grpc.health.v1.Health";

/** `HealthCheckResponse.ServingStatus`. */
export const ServingStatus = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  /** Sent by `Watch` only, for a service the server does not know (yet). */
  SERVICE_UNKNOWN: 3,
} as const;
export type ServingStatus = (typeof ServingStatus)[keyof typeof ServingStatus];

/** `message HealthCheckRequest { string service = 1; }` */
export interface HealthCheckRequest {
  /** `""` asks about the server as a whole. */
  service: string;
}

/** `message HealthCheckResponse { ServingStatus status = 1; }` */
export interface HealthCheckResponse {
  status: ServingStatus;
}

/** Field 1 as a length-delimited string (tag 10) or a varint (tag 8). */
const SERVICE_TAG = (1 << 3) | 2;
const STATUS_TAG = (1 << 3) | 0;

export function encodeHealthCheckRequest(message: HealthCheckRequest): Buffer {
  const writer = new BinaryWriter();
  if (message.service !== "") writer.uint32(SERVICE_TAG).string(message.service);
  return Buffer.from(writer.finish());
}

export function decodeHealthCheckRequest(bytes: Uint8Array): HealthCheckRequest {
  const reader = new BinaryReader(bytes);
  let service = "";
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === SERVICE_TAG) service = reader.string();
    else reader.skip(tag & 7);
  }
  return { service };
}

export function encodeHealthCheckResponse(message: HealthCheckResponse): Buffer {
  const writer = new BinaryWriter();
  if (message.status !== ServingStatus.UNKNOWN) writer.uint32(STATUS_TAG).int32(message.status);
  return Buffer.from(writer.finish());
}

export function decodeHealthCheckResponse(bytes: Uint8Array): HealthCheckResponse {
  const reader = new BinaryReader(bytes);
  let status: number = ServingStatus.UNKNOWN;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === STATUS_TAG) status = reader.int32();
    else reader.skip(tag & 7);
  }
  return { status: status as ServingStatus };
}

const codecs = {
  requestSerialize: encodeHealthCheckRequest,
  requestDeserialize: decodeHealthCheckRequest,
  responseSerialize: encodeHealthCheckResponse,
  responseDeserialize: decodeHealthCheckResponse,
};

/** The service in the grpc-js definition form, which nice-grpc serves as it is. */
export const HealthDefinition = {
  check: {
    path: `/${HEALTH_SERVICE_NAME}/Check`,
    originalName: "Check",
    requestStream: false,
    responseStream: false,
    ...codecs,
  },
  watch: {
    path: `/${HEALTH_SERVICE_NAME}/Watch`,
    originalName: "Watch",
    requestStream: false,
    responseStream: true,
    ...codecs,
  },
} as const;
