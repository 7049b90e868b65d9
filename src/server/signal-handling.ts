/*
 * `handleSignals`: SIGTERM and SIGINT drain every server started with it, then
 * the process exits with 0; a second signal forces them and exits with
 * 128 + its number, as a process killed by it would. One set of listeners for
 * the process, however many servers: the process exits once all have drained.
 *
 * Internal to the library (not exported from its entry).
 */
import { constants } from "node:os";

/** A server as the signal handler stops it. */
export interface SignalledServer {
  /** Drains with the server's own drain options; resolves once it has closed. */
  drain(): Promise<void>;
  forceShutdown(): void;
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

const servers = new Set<SignalledServer>();
/** The servers a first signal is draining; a second signal forces these. */
let draining: SignalledServer[] | undefined;

/** Stops `server` on SIGTERM and SIGINT until {@link releaseSignals} is called for it. */
export function handleSignals(server: SignalledServer): void {
  if (servers.size === 0 && draining === undefined) for (const signal of SIGNALS) process.on(signal, onSignal);
  servers.add(server);
}

/** `server` closed by other means: the last one gone gives the signals back to the process. */
export function releaseSignals(server: SignalledServer): void {
  if (!servers.delete(server)) return;
  // While a signal's drain runs, the listeners stay: a second signal must still force.
  if (servers.size === 0 && draining === undefined) for (const signal of SIGNALS) process.off(signal, onSignal);
}

function onSignal(signal: NodeJS.Signals): void {
  if (draining === undefined) {
    draining = [...servers];
    Promise.all(draining.map((server) => server.drain())).then(
      () => process.exit(0),
      () => process.exit(1),
    );
    return;
  }
  for (const server of draining) server.forceShutdown();
  process.exit(128 + constants.signals[signal]);
}
