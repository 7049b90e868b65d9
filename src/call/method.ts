import { BinaryWriter } from "@bufbuild/protobuf/wire";
import type { CompatServiceDefinition } from "nice-grpc";
import { ClientError, type MethodDescriptor, Status } from "nice-grpc-common";
import { InvalidOptionError } from "../errors.js";
import { reservedMethodNameProblem } from "../method-names.js";

/** The four kinds of gRPC method. */
export type MethodKind = "unary" | "serverStreaming" | "clientStreaming" | "bidiStreaming";

/** @internal What the call engine needs to know of a method, worked out once per client. */
export interface MethodInfo {
  /** The client's property name, e.g. `sayHello`. */
  readonly name: string;
  /** The HTTP/2 path, e.g. `/helloworld.Greeter/SayHello`. */
  readonly path: string;
  readonly kind: MethodKind;
  /** Marked `NO_SIDE_EFFECTS` or `IDEMPOTENT` in the proto: it retries by default. */
  readonly idempotent: boolean;
  /** The method as nice-grpc middleware sees it. */
  readonly descriptor: MethodDescriptor;
  serialize(request: unknown): Buffer;
  deserialize(bytes: Buffer): unknown;
}

interface AnyMethod {
  path?: string;
  name?: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize?(value: unknown): Uint8Array;
  responseDeserialize?(bytes: Uint8Array): unknown;
  requestType?: {
    encode(m: unknown, writer?: BinaryWriter): { finish(): Uint8Array };
    fromPartial?(o: unknown): unknown;
  };
  responseType?: { decode(bytes: Uint8Array): unknown };
  options?: { idempotencyLevel?: "IDEMPOTENT" | "NO_SIDE_EFFECTS" };
}

/**
 * @internal
 * Reads a service definition in any form nice-grpc accepts: ts-proto's
 * (`{ fullName, methods }`), grpc-js's, or nice-grpc's own.
 */
export function methodsOf(definition: CompatServiceDefinition): MethodInfo[] {
  const tsProto = "fullName" in definition && "methods" in definition;
  const entries = Object.entries(
    (tsProto ? (definition as { methods: object }).methods : definition) as Record<string, AnyMethod>,
  );
  return entries.map(([name, method]) => {
    const reserved = reservedMethodNameProblem(name);
    if (reserved) throw new InvalidOptionError("definition", name, reserved);
    const path = tsProto ? `/${(definition as { fullName: string }).fullName}/${method.name}` : method.path!;
    const idempotencyLevel = method.options?.idempotencyLevel;
    const options = method.options ?? {};
    return {
      name,
      path,
      kind: kindOf(method),
      idempotent: idempotencyLevel === "IDEMPOTENT" || idempotencyLevel === "NO_SIDE_EFFECTS",
      descriptor: { path, requestStream: method.requestStream, responseStream: method.responseStream, options },
      ...(tsProto ? tsProtoCodec(method) : plainCodec(method)),
    };
  });
}

function kindOf({ requestStream, responseStream }: AnyMethod): MethodKind {
  if (requestStream) return responseStream ? "bidiStreaming" : "clientStreaming";
  return responseStream ? "serverStreaming" : "unary";
}

function tsProtoCodec(method: AnyMethod): Pick<MethodInfo, "serialize" | "deserialize"> {
  const { encode, fromPartial } = method.requestType!;
  const { decode } = method.responseType!;
  // Encoding is synchronous, so one writer serves every call of the method:
  // a fresh writer per message would allocate its buffer every time, which
  // costs more than the encoding itself.
  const writer = new BinaryWriter();
  return {
    serialize: (request) => {
      let bytes: Uint8Array;
      try {
        // Typed clients accept partial messages (every field optional), as nice-grpc's do.
        bytes = encode(fromPartial ? fromPartial(request) : request, writer).finish();
      } catch (error) {
        writer.finish(); // reset what a failed encoding left
        throw error;
      }
      return copyToBuffer(bytes);
    },
    deserialize: decode,
  };
}

/** grpc-js sends Buffers: a copy into Node's pooled memory is cheaper than a Buffer view of the bytes. */
function copyToBuffer(bytes: Uint8Array): Buffer {
  const buffer = Buffer.allocUnsafe(bytes.length);
  buffer.set(bytes);
  return buffer;
}

function plainCodec(method: AnyMethod): Pick<MethodInfo, "serialize" | "deserialize"> {
  return {
    serialize: (request) => toBuffer(method.requestSerialize!(request)),
    deserialize: (bytes) => method.responseDeserialize!(bytes),
  };
}

/** grpc-js sends Buffers; a Uint8Array's bytes become one without a copy. */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * @internal
 * The INTERNAL error of a request that could not be serialized or a response
 * that could not be parsed, worded as grpc-js words them.
 */
export function messageError(path: string, message: "request" | "response", error: unknown): ClientError {
  const details =
    message === "request"
      ? `Request message serialization failure: ${String(error)}`
      : `Response message parsing error: ${String(error)}`;
  return new ClientError(path, Status.INTERNAL, details);
}
