// Child process of bench/pick.ts: one pool(8) client under steady load, with
// or without a client max connection age; prints its CPU per call and RSS as
// JSON (the servers count the connections it opened).
import { pool } from "balanced-grpc";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { runLoad } from "../harness/load.js";

const [target = "", age = "0", seconds = "6"] = process.argv.slice(2);
const maxConnectionAge = Number(age);
const client = createGreeterClient({
  target,
  strategy: pool(8),
  ...(maxConnectionAge > 0 ? { maxConnectionAge } : {}),
});
const call = () => client.sayHello({ name: "recycle" });
await runLoad(call, { concurrency: 20, durationMs: 1_000 });
const rssBefore = process.memoryUsage().rss;
const cpu = process.cpuUsage();
const result = await runLoad(call, { concurrency: 20, durationMs: Number(seconds) * 1_000 });
const used = process.cpuUsage(cpu);
const rssAfter = process.memoryUsage().rss;
client.close();
process.stdout.write(
  JSON.stringify({
    maxConnectionAge,
    calls: result.calls,
    failures: result.failures,
    callsPerSecond: result.callsPerSecond,
    cpuUsPerCall: (used.user + used.system) / result.calls,
    rssGrowthMb: (rssAfter - rssBefore) / 2 ** 20,
    rssMb: rssAfter / 2 ** 20,
  }),
);
