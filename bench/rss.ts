import { spawn } from "node:child_process";
import { pool } from "balanced-grpc";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";

/** What the probe prints. */
export interface RssProbe {
  size: number;
  /** RSS before the client was made, MB. */
  baselineMb: number;
  /** RSS with every connection of pool(size) open and used, MB. */
  rssMb: number;
  /** Connections that carried calls. */
  connections: number;
}

const mb = () => process.memoryUsage().rss / 2 ** 20;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** Runs in the probe process (`cli bench-rss`): one pool(size) client, all connections up. */
export async function rssProbe(target: string, size: number, maxConnectionAge?: number): Promise<RssProbe> {
  gc();
  const baselineMb = mb();
  const client = createGreeterClient({
    target,
    strategy: pool(size, { pick: "roundRobin" }),
    ...(maxConnectionAge ? { maxConnectionAge } : {}),
  });
  // The first call makes the channel connect; round robin reaches only
  // connections that are ready, so wait (bounded) until all of them are.
  await client.sayHello({ name: "rss" });
  for (let waited = 0; waited < 10_000; waited += 10) {
    const up = client.$channel.stats().filter((c) => c.state === "READY").length;
    if (up >= size) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // Round-robin picking over 3·size calls, twice, then reaches every connection.
  for (let i = 0; i < 2; i++)
    await Promise.all(Array.from({ length: size * 3 }, () => client.sayHello({ name: "rss" })));
  const connections = client.$channel.stats().filter((c) => c.completed > 0).length;
  gc();
  const rssMb = mb();
  client.close();
  return { size, baselineMb, rssMb, connections };
}

/** Starts a probe process (this CLI's `bench-rss`) for pool(size) against `target` and returns what it measured. */
export function measureRss(target: string, size: number): Promise<RssProbe> {
  return new Promise((resolve, reject) => {
    const args = [
      ...process.execArgv,
      "--expose-gc",
      process.argv[1]!,
      "bench-rss",
      "--target",
      target,
      "--size",
      String(size),
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.once("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out) as RssProbe)
        : reject(new Error(`rss probe for pool(${size}) exited ${code}`)),
    );
  });
}
