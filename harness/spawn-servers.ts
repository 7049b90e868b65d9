import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface BenchServers {
  addresses: string[];
  proxy: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts bench/servers.ts in its own process, so it does not share the client's CPU. */
export async function spawnServers(env: Record<string, string> = {}): Promise<BenchServers> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "servers.ts")], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  const info = JSON.parse(line) as { addresses: string[]; proxy: string };
  return {
    ...info,
    child,
    async stop() {
      child.stdin!.end();
      await once(child, "exit");
    },
  };
}
