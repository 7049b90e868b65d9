import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";

const cli = join(import.meta.dirname, "../../src/cli/main.ts");

/** A `balanced-grpc serve` running as its own OS process. */
export interface BackendProcess {
  readonly name: string;
  readonly address: string;
  readonly child: ChildProcess;
  signal(signal: NodeJS.Signals): void;
  /** Ends the process whatever its state (continues a stopped one first). */
  kill(): Promise<void>;
}

/** Starts `balanced-grpc serve` on host:port and waits until it listens. */
export async function spawnBackend(host: string, port: number, extraArgs: string[] = []): Promise<BackendProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", cli, "serve", "--host", host, "--port", String(port), "--name", host, ...extraArgs], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const listening = new Promise<string>((resolve, reject) => {
    lines.on("line", (line) => {
      const match = /^listening on (\S+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`backend ${host}:${port} exited with ${code} before listening`)));
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`backend ${host}:${port} did not start`)), 20_000).unref());
  const address = await Promise.race([listening, timeout]);
  let exited = false;
  child.once("exit", () => (exited = true));
  return {
    name: host,
    address,
    child,
    signal: (signal) => void child.kill(signal),
    async kill() {
      if (exited) return;
      const gone = once(child, "exit");
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      await gone;
    },
  };
}
