import { greeterService } from "../reference/greeter.js";
import { routeGuideService } from "../reference/route-guide.js";
import { startServer } from "../server.js";

/** Options of the `serve` command, in ms. */
export interface ServeOptions {
  host: string;
  port: number;
  /** Sent in the `x-backend` response header of Greeter calls. */
  name: string | undefined;
  maxConnectionAge: number | undefined;
  maxConnectionAgeGrace: number | undefined;
  shutdownTimeout: number;
}

/** Serves the reference Greeter and RouteGuide until SIGTERM or SIGINT, then drains. */
export async function serve(options: ServeOptions): Promise<void> {
  const address = `${options.host}:${options.port}`;
  const server = await startServer({
    address,
    services: [greeterService({ backend: options.name ?? address }), routeGuideService()],
    ...(options.maxConnectionAge !== undefined ? { maxConnectionAge: options.maxConnectionAge } : {}),
    ...(options.maxConnectionAgeGrace !== undefined ? { maxConnectionAgeGrace: options.maxConnectionAgeGrace } : {}),
  });
  // Scripts (and the tests) wait for this line before they connect.
  console.log(`listening on ${server.address}`);
  const stop = async (signal: string) => {
    console.log(`${signal}: draining (up to ${options.shutdownTimeout} ms)`);
    await server.shutdown({ timeout: options.shutdownTimeout });
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
