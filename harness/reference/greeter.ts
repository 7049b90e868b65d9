import type { CallContext, Metadata } from "nice-grpc";
import { GreeterDefinition, type GreeterServiceImplementation } from "../../generated/helloworld/helloworld.js";
import { type ServiceRegistration, service } from "../../src/server.js";

/** Response header naming the backend that served a call (reference services only). */
export const BACKEND_HEADER = "x-backend";

/** Options of {@link greeterService}. */
export interface GreeterServiceOptions {
  /**
   * A name for this backend, sent in the `x-backend` response header so
   * clients and demos can tell backends apart.
   * @default no header
   */
  backend?: string;
  /**
   * Called once per call, e.g. to count calls per client connection
   * (`context.peer`).
   * @default none
   */
  onCall?: (context: CallContext) => void;
}

/** The reference Greeter: replies `Hello <name>`. */
export function greeterImplementation(options: GreeterServiceOptions = {}): GreeterServiceImplementation {
  const { backend, onCall } = options;
  return {
    async sayHello(request, context) {
      onCall?.(context);
      if (backend !== undefined) context.header.set(BACKEND_HEADER, backend);
      return { message: `Hello ${request.name}` };
    },
  };
}

/** The reference Greeter, ready for `startServer({ services: [...] })`. */
export function greeterService(options: GreeterServiceOptions = {}): ServiceRegistration {
  return service(GreeterDefinition, greeterImplementation(options));
}

/** Reads the `x-backend` header from a call's response metadata. */
export function backendOf(header: Metadata): string | undefined {
  return header.get(BACKEND_HEADER);
}
