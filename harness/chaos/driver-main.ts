// The soak's client process (started by main.ts): runs the Driver with the
// config in argv[2], reports on stdout, and must then exit by itself: nothing
// here calls process.exit, and every timer of its own is cleared or unref'd.
import { now } from "./clock.js";
import { Driver } from "./driver.js";
import { describeError } from "./judge-call.js";
import { type DriverConfig, send } from "./messages.js";
import { SocketWatch } from "./socket-watch.js";

const config = JSON.parse(process.argv[2] ?? "{}") as DriverConfig;
const driver = new Driver(config, send);
const sockets = new SocketWatch(now);
sockets.start();

// Reported, not fatal: the soak goes on to find more. The library must never get here.
const uncaught = (kind: string) => (error: unknown) => {
  const { line, stack } = describeError(error, 12);
  send({ t: "violation", invariant: "no-uncaught", at: now(), detail: `${kind}: ${line}`, evidence: stack });
};
process.on("uncaughtException", uncaught("uncaught exception"));
process.on("unhandledRejection", uncaught("unhandled rejection"));
process.on("warning", (warning) => driver.warned(warning));

await driver.run();
// Alive 3 s later means something keeps the process up: say what (the timer itself does not count).
setTimeout(() => {
  send({
    t: "lingering",
    at: now(),
    resources: process.getActiveResourcesInfo(),
    openCalls: driver.openCalls(),
    sockets: sockets.report(driver.relative, driver.clientsAt),
  });
}, 3_000).unref();
