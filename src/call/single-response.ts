import { status as Status } from "@grpc/grpc-js";
import { ClientError } from "nice-grpc-common";
import { type MethodInfo, messageError } from "./method.js";

/**
 * @internal
 * The response of an attempt that ended OK and answers with one message
 * (unary, client streaming), or the INTERNAL error of a missing message or
 * one that cannot be parsed.
 */
export function decodeResponse(
  method: MethodInfo,
  response: Buffer | undefined,
): { value: unknown; error?: undefined } | { error: ClientError } {
  if (response === undefined) return { error: new ClientError(method.path, Status.INTERNAL, "No message received") };
  try {
    return { value: method.deserialize(response) };
  } catch (error) {
    return { error: messageError(method.path, "response", error) };
  }
}
