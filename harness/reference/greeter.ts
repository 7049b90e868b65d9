import { setTimeout as delay } from "node:timers/promises";
import { type CallContext, type Metadata, ServerError, type ServiceRegistration, Status, service } from "balanced-grpc";
import { GreeterDefinition, type GreeterServiceImplementation } from "../../generated/helloworld/helloworld.js";

/** Response header naming the backend that served a call. */
export const BACKEND_HEADER = "x-backend";

/** What a reference Greeter does besides greeting; a backend may change these while it runs. */
export interface GreeterKnobs {
  /** Answer every SayHello this many ms late (a slow backend). */
  slowMs: number;
  /** Fail every n-th SayHello with UNAVAILABLE (2: half of them); 0 never. */
  failEvery: number;
  /** Stall every n-th SayHello for `stallMs` (50: 2% of them, a GC pause); 0 never. Its reply says "(stalled)". */
  stallEvery?: number;
  stallMs?: number;
  /** SayHello calls that stalled (started to). */
  stalls?: number;
  /** Hold every SayHello until this settles (in-process only): calls that stay open until the test releases them. */
  hold?: Promise<void> | undefined;
}

/** Options of {@link greeterService}. */
export interface GreeterServiceOptions {
  /** Sent in the `x-backend` response header so clients can tell backends apart. */
  backend?: string;
  /** Called once per call, e.g. to count calls per client connection (`context.peer`). */
  onCall?: (context: CallContext) => void;
  /** Called once per call as its handler ends, however it ends. */
  onDone?: () => void;
  knobs?: GreeterKnobs;
}

/** The reference Greeter: replies `Hello <name>`. */
export function greeterImplementation(options: GreeterServiceOptions = {}): GreeterServiceImplementation {
  const { backend, onCall, onDone, knobs } = options;
  let calls = 0;
  return {
    async sayHello(request, context) {
      onCall?.(context);
      try {
        if (backend !== undefined) context.header.set(BACKEND_HEADER, backend);
        calls++;
        if (knobs?.failEvery && calls % knobs.failEvery === 0) {
          throw new ServerError(Status.UNAVAILABLE, `${backend ?? "backend"} fails call ${calls}`);
        }
        if (knobs?.hold) await knobs.hold;
        if (knobs?.slowMs) await delay(knobs.slowMs);
        if (knobs?.stallEvery && calls % knobs.stallEvery === 0) {
          knobs.stalls = (knobs.stalls ?? 0) + 1;
          await delay(knobs.stallMs ?? 300);
          return { message: `Hello ${request.name} (stalled)` };
        }
        return { message: `Hello ${request.name}` };
      } finally {
        onDone?.();
      }
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
