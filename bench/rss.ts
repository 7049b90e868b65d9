import { spawn } from "node:child_process";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { pool } from "../src/strategy.js";

/** What the probe prints. */
export interface RssProbe {
  size: number;
  /** RSS before the client was made, MB. */
  baselineMb: number;
  /** RSS with every connection of pool(size) open and used, MB. */
  rssMb: number;
  connectedMembers: number;
}

const mb = () => process.memoryUsage().rss / 2 ** 20;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** Runs in the probe process (`balanced-grpc bench-rss`): one pool(size) client, all connections up. */
export async function rssProbe(target: string, size: number): Promise<RssProbe> {
  gc();
  const baselineMb = mb();
  const client = createGreeterClient({ target, strategy: pool(size, { pick: "roundRobin" }) });
  // Round-robin picking over 3·size calls, twice, reaches every member.
  for (let i = 0; i < 2; i++)
    await Promise.all(Array.from({ length: size * 3 }, () => client.sayHello({ name: "rss" })));
  const connectedMembers = client.$channel.stats().filter((m) => m.completed > 0).length;
  gc();
  const rssMb = mb();
  client.close();
  return { size, baselineMb, rssMb, connectedMembers };
}

/** Starts a probe process for pool(size) against `target` and returns what it measured. */
export function measureRss(target: string, size: number): Promise<RssProbe> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, "--expose-gc", process.argv[1]!, "bench-rss", "--target", target, "--size", String(size)],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.once("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out) as RssProbe)
        : reject(new Error(`rss probe for pool(${size}) exited ${code}`)),
    );
  });
}
