// A backend as production runs it (see signalled-backend.ts): startServer with
// handleSignals in a process of its own, so SIGTERM drains it and exits.
// Options as JSON in argv[2]; prints "listening on ADDRESS", then "call" as
// each Greeter call starts when announceCalls is set. Exits at once if stdin
// closes (its parent is gone).
import { type ServiceRegistration, startServer } from "balanced-grpc";
import { greeterService } from "./reference/greeter.js";
import { routeGuideService } from "./reference/route-guide.js";
import type { SignalledBackendOptions } from "./signalled-backend.js";

const options = JSON.parse(process.argv[2] ?? "{}") as SignalledBackendOptions;
const name = options.name ?? options.address.slice(0, options.address.lastIndexOf(":"));
const greeter = greeterService({
  backend: name,
  knobs: { slowMs: options.slowMs ?? 0, failEvery: 0 },
  ...(options.announceCalls ? { onCall: () => console.log("call") } : {}),
});
const server = await startServer({
  address: options.address,
  services: [greeter, routeGuideService()] as ServiceRegistration[],
  handleSignals: true,
  ...(options.drain ? { drain: options.drain } : {}),
});
console.log(`listening on ${server.address}`);
process.stdin.resume();
process.stdin.once("close", () => {
  server.forceShutdown();
  process.exit(0);
});
