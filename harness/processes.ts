import { join } from "node:path";
import { type ServeProcess, startServeProcess } from "./serve-process.js";

/** The CLI run through tsx: under vitest, this process's own entry is vitest's. */
const cli = { entry: ["--import", "tsx", join(import.meta.dirname, "../cli/main.ts")] };

/** A `balanced-grpc serve` running as its own OS process. */
export type BackendProcess = ServeProcess;

/** Starts `balanced-grpc serve` on host:port (its backend name is the host) and waits until it listens. */
export function spawnBackend(host: string, port: number, extraArgs: string[] = []): Promise<BackendProcess> {
  return startServeProcess(host, port, extraArgs, cli);
}
