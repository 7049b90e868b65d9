import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { DrainOptions } from "balanced-grpc";
import { type Backends, onOnePort } from "./backend-group.js";

/** How a signalled backend runs (harness/signalled-backend-main.ts). */
export interface SignalledBackendOptions {
  /** `host:port` to listen on; a fixed port, so that a restart comes back on the same address. */
  address: string;
  /** The `x-backend` header of its replies. @default its host */
  name?: string;
  /** Answer every SayHello this many ms late: calls in flight when a signal comes. @default 0 */
  slowMs?: number;
  /** The server's `drain` option. @default the library's */
  drain?: DrainOptions;
  /** Print "call" as each SayHello starts, for {@link SignalledBackend.nextCall}. @default false */
  announceCalls?: boolean;
}

/** How a backend's process ended, and when (performance.now()). */
export interface BackendExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/**
 * A backend process started with `handleSignals: true`, stopped as an
 * orchestrator stops one: a signal, then waiting for it to exit.
 */
export interface SignalledBackend {
  readonly host: string;
  /** `host:port` as bound. */
  readonly address: string;
  /** The instant (performance.now()) the current process said it was listening. */
  readonly listeningAt: number;
  /** Resolves at the next SayHello the process started (needs `announceCalls`). */
  nextCall(): Promise<void>;
  /** Sends `signal` to the current process; returns the instant it was sent. */
  signal(signal: NodeJS.Signals): number;
  /** Resolves once the current process has exited. */
  exited(): Promise<BackendExit>;
  /** SIGTERM, then waits for the exit: how it exited and how long it took. */
  terminate(): Promise<BackendExit & { tookMs: number }>;
  /** A new process on the same address (the old one must have exited). */
  start(): Promise<void>;
  /** SIGKILL if it still runs (clean-up). */
  kill(): Promise<void>;
}

// The sibling entry: through tsx, or compiled (benchmarks, the demo).
const COMPILED = import.meta.url.endsWith(".js");
const MAIN = join(import.meta.dirname, `signalled-backend-main.${COMPILED ? "js" : "ts"}`);
const NODE_ARGS = COMPILED ? [MAIN] : ["--import", "tsx", MAIN];

/** Starts a signalled backend and waits until it listens. */
export async function spawnSignalledBackend(options: SignalledBackendOptions): Promise<SignalledBackend> {
  const host = options.address.slice(0, options.address.lastIndexOf(":"));
  let child!: ChildProcess;
  let exit!: Promise<BackendExit>;
  let address = options.address;
  let listeningAt = 0;
  let calls: (() => void)[] = [];
  let announced = 0;
  const start = async () => {
    child = spawn(process.execPath, [...NODE_ARGS, JSON.stringify(options)], { stdio: ["pipe", "pipe", "inherit"] });
    const proc = child;
    exit = once(proc, "exit").then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      at: performance.now(),
    }));
    calls = [];
    announced = 0;
    const lines = createInterface({ input: proc.stdout! });
    address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backend on ${host} did not start`)), 20_000);
      void exit.then(({ code }) => reject(new Error(`backend on ${host} exited (${code}) before listening`)));
      lines.on("line", (line) => {
        const match = /^listening on (\S+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          listeningAt = performance.now();
          resolve(match[1]!);
        } else if (line === "call") {
          const waiter = calls.shift();
          if (waiter) waiter();
          else announced++;
        }
      });
    });
  };
  const running = () => child.exitCode === null && child.signalCode === null;
  await start();
  return {
    host,
    get address() {
      return address;
    },
    get listeningAt() {
      return listeningAt;
    },
    nextCall: () => {
      if (announced > 0) {
        announced--;
        return Promise.resolve();
      }
      return new Promise((resolve) => calls.push(resolve));
    },
    signal(signal) {
      child.kill(signal);
      return performance.now();
    },
    exited: () => exit,
    async terminate() {
      const sentAt = performance.now();
      child.kill("SIGTERM");
      const ended = await exit;
      return { ...ended, tookMs: ended.at - sentAt };
    },
    async start() {
      if (running()) throw new Error(`backend on ${host} still runs`);
      await start();
    },
    async kill() {
      if (!running()) return;
      child.kill("SIGKILL");
      await exit;
    },
  };
}

/** `count` signalled backends on 127.0.0.1, 127.0.0.2, … and one port. */
export function spawnSignalledBackends(
  count: number,
  options: Omit<SignalledBackendOptions, "address">,
): Promise<Backends<SignalledBackend>> {
  return onOnePort(
    count,
    (address) => spawnSignalledBackend({ ...options, address }),
    (b) => b.kill(),
  );
}
