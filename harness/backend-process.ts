import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { BackendOptions, BackendStats } from "./backend.js";
import type { GreeterKnobs } from "./reference/greeter.js";

/** A backend running as its own OS process: it can crash (SIGKILL) or hang (SIGSTOP) for real. */
export interface BackendProcess {
  readonly name: string;
  readonly host: string;
  /** `host:port` as bound. */
  readonly address: string;
  stats(): Promise<BackendStats>;
  reset(): Promise<void>;
  /** Changes its Greeter's behaviour while it runs. */
  set(knobs: Partial<GreeterKnobs>): Promise<void>;
  /** What its health service says for every name (`server.setServing`). */
  setServing(serving: boolean): Promise<void>;
  /** SIGKILL, as a crash; resolves once it is gone. */
  kill(): Promise<void>;
  /**
   * A new process on the same address. With `changes` (e.g. another stream
   * limit), those over the options it was spawned with, in place of an
   * earlier restart's changes; without, the same options as last time.
   */
  restart(changes?: BackendProcessChanges): Promise<void>;
  /** Closes its stdin: it exits. */
  stop(): Promise<void>;
  /** Sends a signal, e.g. SIGSTOP / SIGCONT to hang and resume it. */
  signal(signal: NodeJS.Signals): void;
}

/** Options a restart may change: everything but where it listens. */
export type BackendProcessChanges = Partial<Omit<BackendOptions, "address" | "name" | "credentials" | "services">>;

/** What a backend process tells as it runs, besides its answers. */
export interface BackendProcessEvents {
  /** A call carrying the `callIdHeader` started on the backend named `backend` (its "ran ID METHOD" line). */
  onCallId?: (id: string, method: string, backend: string) => void;
}

// The sibling entry: backend-main.ts through tsx, or compiled backend-main.js (benchmarks).
const COMPILED = import.meta.url.endsWith(".js");
const MAIN = join(import.meta.dirname, `backend-main.${COMPILED ? "js" : "ts"}`);
const NODE_ARGS = COMPILED ? [MAIN] : ["--import", "tsx", MAIN];

/** Starts a backend process (harness/backend-main.ts) and waits until it listens. */
export async function spawnBackend(
  options: Omit<BackendOptions, "credentials" | "services" | "onCallId" | "onCall"> = {},
  events: BackendProcessEvents = {},
): Promise<BackendProcess> {
  let child!: ChildProcess;
  let answers: ((line: string) => void)[] = [];
  let address = options.address ?? "127.0.0.1:0";
  const host = address.slice(0, address.lastIndexOf(":"));
  let changed: BackendProcessChanges = {};
  const launch = async () => {
    child = spawn(process.execPath, [...NODE_ARGS, JSON.stringify({ ...options, ...changed, address })], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    answers = [];
    const lines = createInterface({ input: child.stdout! });
    address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backend on ${host} did not start`)), 20_000);
      child.once("exit", (code) => reject(new Error(`backend on ${host} exited (${code}) before listening`)));
      lines.on("line", (line) => {
        const match = /^listening on (\S+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        } else if (line.startsWith("ran ")) {
          const [, id = "", method = ""] = line.split(" ");
          events.onCallId?.(id, method, options.name ?? host);
        } else {
          answers.shift()?.(line);
        }
      });
    });
  };
  const ask = (command: string) =>
    new Promise<BackendStats>((resolve) => {
      answers.push((line) => resolve(JSON.parse(line) as BackendStats));
      child.stdin!.write(`${command}\n`);
    });
  const end = async (how: "SIGKILL" | "stdin") => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    if (how === "stdin") child.stdin!.end();
    else {
      child.kill("SIGCONT"); // a stopped process must run to die
      child.kill(how);
    }
    await exited;
  };
  await launch();
  return {
    name: options.name ?? host,
    host,
    get address() {
      return address;
    },
    stats: () => ask("stats"),
    reset: async () => void (await ask("reset")),
    set: async (knobs) => void (await ask(JSON.stringify(knobs))),
    setServing: async (serving) => void (await ask(`serving ${serving}`)),
    kill: () => end("SIGKILL"),
    restart: async (changes) => {
      await end("SIGKILL");
      if (changes) changed = changes;
      await launch();
    },
    stop: () => end("stdin"),
    signal: (signal) => void child.kill(signal),
  };
}
