import { connectivityState } from "@grpc/grpc-js";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { BACKEND_HEADER } from "../harness/reference/greeter.js";
import { table } from "../harness/table.js";
import type { StrategyOptions } from "../src/strategy.js";

/** Options of the `call` command. */
export interface CallCommandOptions {
  target: string;
  strategy: StrategyOptions;
  name: string;
  count: number;
  deadlineMs: number;
}

/**
 * Calls Greeter.SayHello `count` times, one after another, and prints each
 * reply with the backend that served it (its x-backend header, when it sends
 * one) and the pool connection (member) that carried it. Returns the number
 * of failed calls.
 */
export async function callCommand(options: CallCommandOptions): Promise<number> {
  const client = createGreeterClient({ target: options.target, ...options.strategy });
  const perBackend = new Map<string, number>();
  let failures = 0;
  try {
    for (let i = 1; i <= options.count; i++) {
      const before = client.$channel.stats().map((m) => m.completed);
      let backend = "-";
      try {
        const { message } = await client.sayHello(
          { name: options.name },
          { deadline: options.deadlineMs, onHeader: (header) => (backend = header.get(BACKEND_HEADER) ?? "-") },
        );
        const member = client.$channel.stats().findIndex((m, index) => m.completed > before[index]!);
        perBackend.set(backend, (perBackend.get(backend) ?? 0) + 1);
        console.log(
          `#${i} ${JSON.stringify(message)}  backend=${backend}  connection=${member}/${client.$channel.size}`,
        );
      } catch (error) {
        failures++;
        console.log(`#${i} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (options.count > 1) {
      console.log();
      console.log(
        table(
          ["backend", "calls"],
          [...perBackend].map(([b, n]) => [b, String(n)]),
        ),
      );
      console.log();
      console.log(
        table(
          ["connection", "state", "calls"],
          client.$channel.stats().map((m) => [String(m.index), connectivityState[m.state], String(m.completed)]),
        ),
      );
    }
  } finally {
    client.close();
  }
  return failures;
}
