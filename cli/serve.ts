import { createInterface } from "node:readline";
import { greeterService } from "../harness/reference/greeter.js";
import { routeGuideService } from "../harness/reference/route-guide.js";
import { startServer } from "../src/server.js";

/** Options of the `serve` command, in ms. */
export interface ServeOptions {
  host: string;
  port: number;
  /** Sent in the `x-backend` response header of Greeter calls. */
  name: string | undefined;
  maxConnectionAge: number | undefined;
  maxConnectionAgeGrace: number | undefined;
  shutdownTimeout: number;
  /** Answer `stats` / `reset` lines on stdin, and exit when stdin closes. */
  control: boolean;
  /** Serve RouteGuide with this many generated features instead of the built-in few (streaming benchmarks). */
  routeFeatures: number | undefined;
}

/** `count` features along a line, all inside the rectangle (40°N, 74°W)–(41°N, 75°W). */
function generatedFeatures(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    name: `feature ${i}`,
    location: { latitude: 400_000_000 + i, longitude: -740_000_000 - i },
  }));
}

/** What `stats` on the control stream answers. */
export interface ServeStats {
  /** Greeter calls served since the last reset. */
  calls: number;
  /** Distinct client connections seen since the last reset. */
  connections: number;
}

/** Serves the reference Greeter and RouteGuide until SIGTERM or SIGINT, then drains. */
export async function serve(options: ServeOptions): Promise<void> {
  const address = `${options.host}:${options.port}`;
  let calls = 0;
  const peers = new Set<string>();
  const server = await startServer({
    address,
    services: [
      greeterService({
        backend: options.name ?? address,
        onCall: options.control ? (context) => (calls++, peers.add(context.peer)) : undefined,
      }),
      routeGuideService(options.routeFeatures === undefined ? undefined : generatedFeatures(options.routeFeatures)),
    ],
    ...(options.maxConnectionAge !== undefined ? { maxConnectionAge: options.maxConnectionAge } : {}),
    ...(options.maxConnectionAgeGrace !== undefined ? { maxConnectionAgeGrace: options.maxConnectionAgeGrace } : {}),
  });
  // Scripts (and the tests) wait for this line before they connect.
  console.log(`listening on ${server.address}`);
  const stop = async (reason: string) => {
    console.error(`${reason}: draining (up to ${options.shutdownTimeout} ms)`);
    await server.shutdown({ timeout: options.shutdownTimeout });
    process.exit(0);
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  if (options.control) {
    // A parent (the demo) reads counts over stdin/stdout, one JSON line per
    // command; when the parent goes away, so does this server.
    const lines = createInterface({ input: process.stdin });
    lines.on("line", (line) => {
      const command = line.trim();
      if (command === "reset") {
        calls = 0;
        peers.clear();
      }
      const stats: ServeStats = { calls, connections: peers.size };
      if (command === "stats" || command === "reset") console.log(JSON.stringify(stats));
    });
    lines.once("close", () => {
      server.forceShutdown();
      process.exit(0);
    });
  }
}
