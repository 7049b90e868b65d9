// Composing middleware: run with `npm run example:middleware`.
// Starts a local Greeter, then calls it through a client with a logging and a
// metrics middleware on top of the SDK's deadline and retry.
import { type ClientMiddleware, pool, startServer } from "balanced-grpc";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { greeterService } from "../harness/reference/greeter.js";

/** Logs each call once, with its final outcome (after any retries). */
const logging: ClientMiddleware = async function* logging(call, options) {
  const started = performance.now();
  try {
    const result = yield* call.next(call.request, options);
    console.log(`${call.method.path} ok in ${(performance.now() - started).toFixed(1)} ms`);
    return result;
  } catch (error) {
    console.log(`${call.method.path} failed: ${String(error)}`);
    throw error;
  }
};

/** Counts calls per method. */
const counts = new Map<string, number>();
const metrics: ClientMiddleware = async function* metrics(call, options) {
  counts.set(call.method.path, (counts.get(call.method.path) ?? 0) + 1);
  return yield* call.next(call.request, options);
};

const server = await startServer({ address: "127.0.0.1:0", services: [greeterService()] });
const client = createGreeterClient({
  target: server.address,
  strategy: pool(4),
  middleware: [logging, metrics], // logging wraps metrics, which wraps deadline → retry
  // generous: the first call also connects, on a machine that may be busy
  defaultCallOptions: { "*": { deadline: 5_000 }, sayHello: { retryMaxAttempts: 3 } },
});

const { message } = await client.sayHello({ name: "middleware" });
console.log(message);
console.log("calls per method:", Object.fromEntries(counts));

client.close();
await server.shutdown();
