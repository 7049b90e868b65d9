import { startBackend } from "../harness/backend.js";

/** Options of the `serve` command, in ms. */
export interface ServeOptions {
  host: string;
  port: number;
  /** Sent in the `x-backend` response header of Greeter calls. */
  name: string | undefined;
  maxConnectionAge: number | undefined;
  maxConnectionAgeGrace: number | undefined;
  shutdownTimeout: number;
  slowMs: number;
  failEvery: number;
  routeFeatures: number | undefined;
}

/** Serves the reference Greeter and RouteGuide until SIGTERM or SIGINT, then drains. */
export async function serve(options: ServeOptions): Promise<void> {
  const backend = await startBackend({
    address: `${options.host}:${options.port}`,
    slowMs: options.slowMs,
    failEvery: options.failEvery,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.maxConnectionAge !== undefined ? { maxConnectionAge: options.maxConnectionAge } : {}),
    ...(options.maxConnectionAgeGrace !== undefined ? { maxConnectionAgeGrace: options.maxConnectionAgeGrace } : {}),
    ...(options.routeFeatures !== undefined ? { routeFeatures: options.routeFeatures } : {}),
  });
  // Scripts wait for this line before they connect.
  console.log(`listening on ${backend.address}`);
  const stop = async (reason: string) => {
    console.error(`${reason}: draining (up to ${options.shutdownTimeout} ms)`);
    await backend.shutdown(options.shutdownTimeout);
    process.exit(0);
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}
