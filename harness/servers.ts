// Child process for benchmarks: Greeter backends on 127.0.0.1..N (one port),
// optionally one of them slow or with a max connection age, and an L4 proxy
// in front of them. Prints one
// JSON line with the addresses, then serves until stdin closes or SIGTERM.
import { setTimeout as delay } from "node:timers/promises";
import { GreeterDefinition } from "../generated/helloworld/helloworld.js";
import { type RunningServer, service, startServer } from "../src/server.js";
import { startTcpProxy } from "./tcp-proxy.js";

const count = Number(process.env.BACKENDS ?? 3);
const slowMs = Number(process.env.SLOW_MS ?? 0);
const maxAge = process.env.MAX_AGE_MS ? Number(process.env.MAX_AGE_MS) : undefined;
const grace = process.env.GRACE_MS ? Number(process.env.GRACE_MS) : undefined;
const servers: RunningServer[] = [];
let port = 0;
for (let i = 1; i <= count; i++) {
  const slow = i === count && slowMs > 0;
  const server = await startServer({
    address: `127.0.0.${i}:${port}`,
    ...(maxAge !== undefined ? { maxConnectionAge: maxAge } : {}),
    ...(grace !== undefined ? { maxConnectionAgeGrace: grace } : {}),
    services: [
      service(GreeterDefinition, {
        async sayHello(request) {
          if (slow) await delay(slowMs);
          return { message: `Hello ${request.name}` };
        },
      }),
    ],
  });
  port = server.port;
  servers.push(server);
}
const addresses = servers.map((s) => s.address);
const proxy = await startTcpProxy(addresses);
process.stdout.write(`${JSON.stringify({ addresses, proxy: proxy.address })}\n`);
const stop = async () => {
  await proxy.close();
  for (const s of servers) s.forceShutdown();
  process.exit(0);
};
process.stdin.on("end", stop).resume();
process.on("SIGTERM", stop);
