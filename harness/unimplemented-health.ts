/*
 * A grpc.health.v1 service that every call finds missing: `Check` and `Watch`
 * fail with UNIMPLEMENTED, as on a server without the health service, and
 * each `Watch` is counted by the client connection (`context.peer`) it came
 * on. grpc-js answers a method it does not serve before any middleware or
 * interceptor runs, so a server truly without the service cannot count them;
 * to the client the two are the same (a status, UNIMPLEMENTED).
 */
import { type CallContext, ServerError, type ServiceRegistration, Status, service } from "balanced-grpc";

const asIs = (bytes: Buffer) => bytes;
const codecs = { requestSerialize: asIs, requestDeserialize: asIs, responseSerialize: asIs, responseDeserialize: asIs };
const definition = {
  check: {
    path: "/grpc.health.v1.Health/Check",
    originalName: "Check",
    requestStream: false,
    responseStream: false,
    ...codecs,
  },
  watch: {
    path: "/grpc.health.v1.Health/Watch",
    originalName: "Watch",
    requestStream: false,
    responseStream: true,
    ...codecs,
  },
} as const;

const missing = () => new ServerError(Status.UNIMPLEMENTED, "unknown service grpc.health.v1.Health");

/** The service, and the Watch calls it has seen per client connection. */
export function unimplementedHealth(): { registration: ServiceRegistration; watches: Map<string, number> } {
  const watches = new Map<string, number>();
  const registration = service(definition, {
    async check(): Promise<Buffer> {
      throw missing();
    },
    // biome-ignore lint/correctness/useYield: it fails before its first message, as a missing method does
    async *watch(_request: Buffer, context: CallContext): AsyncGenerator<Buffer> {
      watches.set(context.peer, (watches.get(context.peer) ?? 0) + 1);
      throw missing();
    },
  });
  return { registration, watches };
}
