// A backend as production runs it (see signalled-backend.ts): startServer with
// handleSignals in a process of its own, so SIGTERM drains it and exits.
// Options as JSON in argv[2]. Prints "loaded" once its modules are loaded and,
// unless told to wait, listens at once; told to wait (as a container whose
// image is pulled), it listens at the line "listen" on stdin. Prints
// "listening on ADDRESS", then "call" as each Greeter call starts when
// announceCalls is set. Exits at once if stdin closes (its parent is gone).
import { createInterface } from "node:readline";
import { type RunningServer, type ServiceRegistration, startServer } from "balanced-grpc";
import { greeterService } from "./reference/greeter.js";
import { routeGuideService } from "./reference/route-guide.js";
import type { SignalledBackendOptions } from "./signalled-backend.js";

const options = JSON.parse(process.argv[2] ?? "{}") as SignalledBackendOptions & { wait?: boolean };
const name = options.name ?? options.address.slice(0, options.address.lastIndexOf(":"));
let server: RunningServer | undefined;

async function listen() {
  const greeter = greeterService({
    backend: name,
    knobs: { slowMs: options.slowMs ?? 0, failEvery: 0 },
    ...(options.announceCalls ? { onCall: () => console.log("call") } : {}),
  });
  server = await startServer({
    address: options.address,
    services: [greeter, routeGuideService()] as ServiceRegistration[],
    handleSignals: true,
    ...(options.drain ? { drain: options.drain } : {}),
  });
  console.log(`listening on ${server.address}`);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => void (line === "listen" && server === undefined && listen()));
lines.once("close", () => {
  server?.forceShutdown();
  process.exit(0);
});
console.log("loaded");
if (!options.wait) await listen();
