import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { ServeStats } from "../cli/serve.js";

/** A `balanced-grpc serve --control` child process (the demo's and the benchmark's servers). */
export interface ServeProcess {
  readonly host: string;
  /** host:port as bound. */
  readonly address: string;
  stats(): Promise<ServeStats>;
  reset(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** A new process on the same address. */
  restart(): Promise<void>;
  /** Closes its stdin: it exits. */
  stop(): Promise<void>;
  /** Sends a signal, e.g. SIGSTOP / SIGCONT to hang and resume it. */
  signal(signal: NodeJS.Signals): void;
}

/** How to run the CLI: this process's own entry point unless told otherwise (tests name it). */
export interface CliCommand {
  /** Arguments before the CLI's own: node flags and the entry script. */
  entry: readonly string[];
}

const ownEntry = (): CliCommand => ({ entry: [...process.execArgv, process.argv[1]!] });

/**
 * Starts this same CLI (from dist/ or through tsx alike) as `serve --control`
 * on host:port with `args`, and waits until it listens. Port 0 picks a free
 * port; a restart reuses the one bound.
 */
export async function startServeProcess(
  host: string,
  port: number,
  args: readonly string[] = [],
  cli: CliCommand = ownEntry(),
): Promise<ServeProcess> {
  let child!: ChildProcess;
  let answers: ((line: string) => void)[] = [];
  let address = "";
  const launch = async () => {
    if (address) port = Number(address.slice(address.lastIndexOf(":") + 1));
    child = spawn(
      process.execPath,
      [...cli.entry, "serve", "--control", "--host", host, "--port", String(port), "--name", host, ...args],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    answers = [];
    const lines = createInterface({ input: child.stdout! });
    address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server on ${host} did not start`)), 20_000);
      child.once("exit", (code) => reject(new Error(`server on ${host} exited (${code}) before listening`)));
      lines.on("line", (line) => {
        const match = /^listening on (\S+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        } else {
          answers.shift()?.(line);
        }
      });
    });
  };
  const ask = (command: string) =>
    new Promise<ServeStats>((resolve) => {
      answers.push((line) => resolve(JSON.parse(line) as ServeStats));
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
    host,
    get address() {
      return address;
    },
    stats: () => ask("stats"),
    reset: async () => void (await ask("reset")),
    kill: () => end("SIGKILL"),
    restart: async () => {
      await end("SIGKILL");
      await launch();
    },
    stop: () => end("stdin"),
    signal: (signal) => void child.kill(signal),
  };
}
