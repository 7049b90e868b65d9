import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { DrainOptions } from "balanced-grpc";
import { type Backends, backendHost, freePort } from "./backend-group.js";

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
  /**
   * Loads the next process now, without listening, so that {@link start}
   * costs a listen, not the seconds Node takes to load the code (as an
   * orchestrator starts a container whose image it has already pulled).
   */
  prepare(): Promise<void>;
  /** A new process on the same address (the old one must have exited): the prepared one, if any. */
  start(): Promise<void>;
  /** SIGKILL if it still runs, and the prepared process too (clean-up). */
  kill(): Promise<void>;
}

// The sibling entry: through tsx, or compiled (benchmarks, the demo).
const COMPILED = import.meta.url.endsWith(".js");
const MAIN = join(import.meta.dirname, `signalled-backend-main.${COMPILED ? "js" : "ts"}`);
const NODE_ARGS = COMPILED ? [MAIN] : ["--import", "tsx", MAIN];

/** One OS process of a backend, from spawn to exit. */
class BackendProcess {
  readonly child: ChildProcess;
  readonly exit: Promise<BackendExit>;
  readonly loaded: Promise<void>;
  listening: Promise<string> | undefined;
  listeningAt = 0;
  readonly #lines: ReturnType<typeof createInterface>;
  readonly #calls: (() => void)[] = [];
  #announced = 0;

  constructor(options: SignalledBackendOptions, wait: boolean) {
    const host = options.address.slice(0, options.address.lastIndexOf(":"));
    this.child = spawn(process.execPath, [...NODE_ARGS, JSON.stringify({ ...options, wait })], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.exit = once(this.child, "exit").then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      at: performance.now(),
    }));
    this.#lines = createInterface({ input: this.child.stdout! });
    this.loaded = this.#line(/^loaded$/, `backend on ${host} did not load`).then(() => {});
    if (!wait) this.listening = this.#listening(host);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Tells a waiting process to listen. */
  listen(host: string): Promise<string> {
    this.listening ??= this.#listening(host);
    this.child.stdin!.write("listen\n");
    return this.listening;
  }

  nextCall(): Promise<void> {
    if (this.#announced > 0) {
      this.#announced--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#calls.push(resolve));
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGKILL");
    await this.exit;
  }

  async #listening(host: string): Promise<string> {
    const [, address] = await this.#line(/^listening on (\S+)/, `backend on ${host} did not listen`);
    this.listeningAt = performance.now();
    this.#lines.on("line", (line) => {
      if (line !== "call") return;
      const waiter = this.#calls.shift();
      if (waiter) waiter();
      else this.#announced++;
    });
    return address!;
  }

  /** The first line matching `pattern`; fails if the process exits first or stays silent for 20 s. */
  #line(pattern: RegExp, silent: string): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(silent)), 20_000);
      void this.exit.then(({ code }) => reject(new Error(`${silent}: it exited (${code})`)));
      const onLine = (line: string) => {
        const match = pattern.exec(line);
        if (!match) return;
        clearTimeout(timer);
        this.#lines.off("line", onLine);
        resolve(match);
      };
      this.#lines.on("line", onLine);
    });
  }
}

/**
 * Starts a signalled backend and waits until it listens; with `prepare`, its
 * next process loads beside it (see {@link SignalledBackend.prepare}).
 */
export async function spawnSignalledBackend(
  options: SignalledBackendOptions,
  { prepare = false } = {},
): Promise<SignalledBackend> {
  const host = options.address.slice(0, options.address.lastIndexOf(":"));
  let current = new BackendProcess(options, false);
  let prepared = prepare ? new BackendProcess(options, true) : undefined;
  let address: string;
  try {
    [address] = await Promise.all([current.listening!, prepared?.loaded]);
  } catch (error) {
    await Promise.all([current.kill(), prepared?.kill()]);
    throw error;
  }
  return {
    host,
    get address() {
      return address;
    },
    get listeningAt() {
      return current.listeningAt;
    },
    nextCall: () => current.nextCall(),
    signal(signal) {
      current.child.kill(signal);
      return performance.now();
    },
    exited: () => current.exit,
    async terminate() {
      const sentAt = performance.now();
      current.child.kill("SIGTERM");
      const ended = await current.exit;
      return { ...ended, tookMs: ended.at - sentAt };
    },
    async prepare() {
      prepared ??= new BackendProcess(options, true);
      await prepared.loaded;
    },
    async start() {
      if (current.running) throw new Error(`backend on ${host} still runs`);
      current = prepared ?? new BackendProcess(options, true);
      prepared = undefined;
      await current.loaded;
      address = await current.listen(host);
    },
    async kill() {
      await Promise.all([current.kill(), prepared?.kill()]);
    },
  };
}

/**
 * `count` signalled backends on 127.0.0.1, 127.0.0.2, … and one port, started
 * side by side (each process takes a second or two to load), each with its
 * next process loaded with `prepare`; another port if one could not listen.
 */
export async function spawnSignalledBackends(
  count: number,
  options: Omit<SignalledBackendOptions, "address">,
  { prepare = false } = {},
): Promise<Backends<SignalledBackend>> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const hosts = Array.from({ length: count }, (_, i) => backendHost(i));
    const started = await Promise.allSettled(
      hosts.map((host) => spawnSignalledBackend({ ...options, address: `${host}:${port}` }, { prepare })),
    );
    const list = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    if (list.length === count) {
      const addresses = list.map((b) => b.address);
      return { list, port, addresses, target: `ipv4:${addresses.join(",")}` };
    }
    await Promise.all(list.map((b) => b.kill()));
    if (attempt >= 4) throw started.find((s) => s.status === "rejected")?.reason;
  }
}
