// A backend as its own OS process (see backend-process.ts): options as JSON
// in argv[2]; prints "listening on ADDRESS"; answers one JSON line per command
// line on stdin ("stats", "reset", "serving true|false" for its health
// service, or {"slowMs":…,"failEvery":…} to change its knobs); exits when
// stdin closes. With `callIdHeader`, it also prints "ran ID METHOD" as each
// call carrying that header starts: stdout to a pipe is written
// synchronously on Linux, so the line is out before the handler runs and
// survives a SIGKILL right after.
import { createInterface } from "node:readline";
import { type BackendOptions, startBackend } from "./backend.js";

const options = JSON.parse(process.argv[2] ?? "{}") as BackendOptions;
const backend = await startBackend({
  ...options,
  onCallId: (id, method) => process.stdout.write(`ran ${id} ${method}\n`),
});
console.log(`listening on ${backend.address}`);
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const command = line.trim();
  if (command === "reset") backend.reset();
  else if (command.startsWith("serving ")) backend.server.setServing(command === "serving true");
  else if (command.startsWith("{")) Object.assign(backend.knobs, JSON.parse(command));
  console.log(JSON.stringify(backend.stats()));
});
lines.once("close", () => {
  backend.server.forceShutdown();
  process.exit(0);
});
process.once("SIGTERM", async () => {
  await backend.shutdown(5_000);
  process.exit(0);
});
