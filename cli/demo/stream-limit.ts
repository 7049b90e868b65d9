import { pickFirst, pool, type Strategy } from "balanced-grpc";
import { createGreeterClient, type GreeterSdkClient } from "../../generated/helloworld/helloworld_sdk.js";
import { spawnBackend } from "../../harness/backend-process.js";
import type { SceneSettings } from "./scene-kit.js";

/** The scene's server: the limit Kestrel and Google's front ends advertise. */
export const STREAM_LIMIT = 100;
/** Calls started at once, each LONG_CALL_MS long: three times what one connection may carry. */
export const LONG_CALLS = 300;
export const LONG_CALL_MS = 1_000;
/** The adaptive pool's idle period here: short, to watch it shrink within the demo. */
const IDLE_MS = 1_000;

export interface StreamLimitResult {
  strategy: string;
  /** ms from the burst until the last call ended. */
  lastEndsMs: number;
  failures: number;
  /** Most calls running at once on the server. */
  peakRunning: number;
  /** [ms since the burst, connections serving] at every change, until the pool was back to its minimum. */
  sizes: [number, number][];
  expected: string;
  ok: boolean;
}

/**
 * Scene 6: one server (one IP, as behind an L4 balancer) allowing 100 streams
 * per connection; 300 calls of 1 s start at once. pickFirst() runs 99 at a
 * time (its health Watch holds the 100th stream) and queues the rest inside
 * HTTP/2; pool() opens connections before any call waits for a stream, then
 * shrinks back to one once idle.
 */
export async function streamLimitScene(settings: SceneSettings): Promise<StreamLimitResult[]> {
  const server = await spawnBackend({
    address: "127.0.0.1:0",
    maxConcurrentStreams: STREAM_LIMIT,
    slowMs: LONG_CALL_MS,
  });
  const results: StreamLimitResult[] = [];
  try {
    for (const [name, strategy] of [
      ["pickFirst()", pickFirst()],
      [`pool({ idleMs: ${IDLE_MS} })`, pool({ idleMs: IDLE_MS })],
    ] as [string, Strategy][]) {
      const client = createGreeterClient({ target: server.address, strategy, retry: false });
      try {
        await client.sayHello({ name: "warm-up" }); // connected, the server's limit read
        await server.reset();
        results.push(await burst(name, client, settings, async () => (await server.stats()).peakRunning));
      } finally {
        client.close();
      }
    }
  } finally {
    await server.stop();
  }
  return results;
}

async function burst(
  name: string,
  client: GreeterSdkClient,
  settings: SceneSettings,
  peak: () => Promise<number>,
): Promise<StreamLimitResult> {
  const adaptive = name.startsWith("pool");
  const sizes: [number, number][] = [];
  const start = performance.now();
  const sample = () => {
    const size = client.$channel.stats().filter((c) => c.role === "serving").length;
    if (sizes.at(-1)?.[1] !== size) sizes.push([Math.round(performance.now() - start), size]);
    settings.progress(`${name}: ${size} connection(s) serving`);
  };
  const sampler = setInterval(sample, 50);
  let failures = 0;
  let lastEnd = start;
  try {
    await Promise.all(
      Array.from({ length: LONG_CALLS }, () =>
        client.sayHello({ name: "long" }).then(
          () => {
            lastEnd = performance.now();
          },
          () => {
            failures++;
          },
        ),
      ),
    );
    // Bounded: back to one connection within a few idle periods.
    for (const until = performance.now() + 8 * IDLE_MS; adaptive && performance.now() < until; ) {
      if (client.$channel.stats().length === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    sample();
  } finally {
    clearInterval(sampler);
    settings.progress("");
  }
  const peakRunning = await peak();
  const shrunk = sizes.at(-1)?.[1] === 1 && client.$channel.stats().length === 1;
  return {
    strategy: name,
    lastEndsMs: Math.round(lastEnd - start),
    failures,
    peakRunning,
    sizes,
    expected: adaptive
      ? `0 failures; all ${LONG_CALLS} run at once; back to 1 connection when idle`
      : `0 failures; ${STREAM_LIMIT - 1} run at a time (the health Watch holds a stream), the rest wait`,
    ok: failures === 0 && (adaptive ? peakRunning === LONG_CALLS && shrunk : peakRunning <= STREAM_LIMIT),
  };
}
