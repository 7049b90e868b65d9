/*
 * How a running server stops: the one owner of draining, shutting down and
 * forcing. `shutdown()` is a drain without delay; `forceShutdown()` cuts any
 * drain short; a second drain or shutdown joins the first.
 *
 * Internal to the library (not exported from its entry).
 */
import type { DrainOptions } from "../server-options.js";
import type { HealthService } from "./health-service.js";

/** What draining needs of the nice-grpc server. */
export interface ClosableServer {
  /** grpc-js `tryShutdown`: closes the listeners, sends GOAWAY on every connection, resolves once all are closed. */
  shutdown(): Promise<void>;
  /** Closes every connection now. */
  forceShutdown(): void;
}

export class ServerDrain {
  readonly #server: ClosableServer;
  readonly #health: HealthService | undefined;
  #onClosed: (() => void) | undefined;
  #drained: Promise<void> | undefined;
  #forced = false;
  /** Wakes a drain's waits when {@link forceShutdown} is called. */
  readonly #forceWaiters = new Set<() => void>();

  /** `onClosed` runs once, when the server has closed by any path. */
  constructor(server: ClosableServer, health: HealthService | undefined, onClosed: () => void) {
    this.#server = server;
    this.#health = health;
    this.#onClosed = onClosed;
  }

  /**
   * NOT_SERVING everywhere now; after `delayMs`, no new calls (GOAWAY) and
   * every health `Watch` ended; after `timeoutMs` more, the calls still
   * running cancelled. Resolves once every connection is closed. A drain
   * already under way is joined, whatever `options` say.
   */
  drain(options: Required<DrainOptions>): Promise<void> {
    this.#drained ??= this.#run(options);
    return this.#drained;
  }

  /** Closes every connection now, ending any drain under way. */
  forceShutdown(): void {
    this.#forced = true;
    this.#health?.drain();
    this.#health?.endStreams();
    this.#server.forceShutdown();
    for (const wake of [...this.#forceWaiters]) wake();
    // With a drain under way, it says when the server has closed.
    if (this.#drained === undefined) this.#closed();
  }

  async #run({ delayMs, timeoutMs }: Required<DrainOptions>): Promise<void> {
    try {
      this.#health?.drain();
      await this.#wait(delayMs);
      const closed = this.#server.shutdown().then(() => true as const);
      // After the GOAWAY is queued: a client that sees its Watch end cannot
      // start another on this connection.
      this.#health?.endStreams();
      const closedInTime = await this.#wait(timeoutMs, closed);
      if (!closedInTime && !this.#forced) this.forceShutdown();
      await closed;
    } finally {
      this.#closed();
    }
  }

  /** Waits `ms`, or less if `done` resolves (then true) or the server is forced first. */
  async #wait(ms: number, done?: Promise<true>): Promise<boolean> {
    if (this.#forced || ms === 0) return false;
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    try {
      return await Promise.race([
        new Promise<false>((resolve) => {
          wake = () => resolve(false);
          timer = setTimeout(wake, ms);
          this.#forceWaiters.add(wake);
        }),
        ...(done ? [done] : []),
      ]);
    } finally {
      clearTimeout(timer);
      if (wake) this.#forceWaiters.delete(wake);
    }
  }

  #closed(): void {
    const onClosed = this.#onClosed;
    this.#onClosed = undefined;
    onClosed?.();
  }
}
