/*
 * The server's side of grpc.health.v1: what each service name's status is,
 * `Check` and `Watch` answering from it, and the end of every `Watch` stream
 * when the server closes.
 *
 * Internal to the library (not exported from its entry).
 */
import type { CallContext, ServiceImplementation } from "nice-grpc";
import { ServerError, Status } from "nice-grpc-common";
import {
  type HealthCheckRequest,
  type HealthCheckResponse,
  HealthDefinition,
  ServingStatus,
} from "../health/health-proto.js";

type HealthImplementation = ServiceImplementation<typeof HealthDefinition>;

/** The health of a server's services, served as grpc.health.v1. */
export class HealthService {
  /** Service name → serving; `""` is the server as a whole. A name absent here is unknown. */
  readonly #serving = new Map<string, boolean>();
  /** Each open `Watch` waiting for a change. */
  readonly #waiting = new Set<() => void>();
  /** Set by {@link drain}: every status NOT_SERVING for good, {@link setServing} ignored. */
  #draining = false;
  /** Set by {@link endStreams}: open and new `Watch` streams end once they have sent the last status. */
  #streamsEnded = false;

  /** Knows `""` and `services`, each NOT_SERVING until the server listens. */
  constructor(services: readonly string[]) {
    for (const name of ["", ...services]) this.#serving.set(name, false);
  }

  /** The nice-grpc definition and implementation to register. */
  registration(): { definition: typeof HealthDefinition; implementation: HealthImplementation } {
    const implementation: HealthImplementation = {
      check: (request) => this.#check(request),
      watch: (request, context) => this.#watch(request, context),
    };
    return { definition: HealthDefinition, implementation };
  }

  /**
   * Sets one service's status, or every known one's when `service` is
   * undefined. A name not known yet becomes known. Ignored once draining: a
   * server going away does not say SERVING again.
   */
  setServing(serving: boolean, service?: string): void {
    if (this.#draining) return;
    const names = service === undefined ? [...this.#serving.keys()] : [service];
    let changed = false;
    for (const name of names) {
      if (this.#serving.get(name) === serving) continue;
      this.#serving.set(name, serving);
      changed = true;
    }
    if (changed) this.#wake();
  }

  /** NOT_SERVING everywhere, for good: the server is draining. */
  drain(): void {
    this.setServing(false);
    this.#draining = true;
  }

  /**
   * Ends every `Watch` stream (with OK), each after it has sent the current
   * status: a graceful shutdown waits for the server's open streams, and a
   * `Watch` would otherwise stay open until the shutdown's timeout.
   */
  endStreams(): void {
    this.#streamsEnded = true;
    this.#wake();
  }

  #status(service: string): ServingStatus {
    const serving = this.#serving.get(service);
    if (serving === undefined) return ServingStatus.SERVICE_UNKNOWN;
    return serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  async #check({ service }: HealthCheckRequest): Promise<HealthCheckResponse> {
    const status = this.#status(service);
    // The protocol: Check of a name the server does not know fails with NOT_FOUND.
    if (status === ServingStatus.SERVICE_UNKNOWN) {
      throw new ServerError(Status.NOT_FOUND, `unknown service ${JSON.stringify(service)}`);
    }
    return { status };
  }

  async *#watch({ service }: HealthCheckRequest, context: CallContext): AsyncGenerator<HealthCheckResponse> {
    let sent: ServingStatus | undefined;
    for (;;) {
      // Read again after each send: the status may have changed while the message was written.
      const status = this.#status(service);
      if (status !== sent) {
        sent = status;
        yield { status };
        continue;
      }
      if (this.#streamsEnded || context.signal.aborted) return;
      await this.#changed(context.signal);
    }
  }

  /** Resolves at the next change, at {@link endStreams}, or when the call is cancelled. */
  #changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.#waiting.delete(wake);
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.#waiting.add(wake);
      signal.addEventListener("abort", wake);
    });
  }

  #wake(): void {
    for (const wake of [...this.#waiting]) wake();
  }
}
