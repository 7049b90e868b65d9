import type { ClientOptions, ConnectionStats } from "balanced-grpc";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { backendOf } from "../harness/reference/greeter.js";
import { table } from "../harness/table.js";

/** Options of the `call` command. */
export interface CallCommandOptions {
  client: ClientOptions;
  name: string;
  count: number;
  deadlineMs: number;
}

/**
 * Calls Greeter.SayHello `count` times, one after another, and prints each
 * reply with the backend that served it (its x-backend header) and the
 * client connection that carried it; then the calls per backend and
 * `client.$channel.stats()`. Returns the number of failed calls.
 */
export async function callCommand(options: CallCommandOptions): Promise<number> {
  const client = createGreeterClient(options.client);
  const perBackend = new Map<string, number>();
  let failures = 0;
  const key = (c: ConnectionStats, i: number) => `${i}:${c.address}`;
  try {
    for (let i = 1; i <= options.count; i++) {
      const before = new Map(client.$channel.stats().map((c, j) => [key(c, j), c.completed]));
      let backend = "-";
      try {
        const { message } = await client.sayHello(
          { name: options.name },
          { deadline: options.deadlineMs, onHeader: (header) => (backend = backendOf(header) ?? "-") },
        );
        const stats = client.$channel.stats();
        const used = stats.findIndex((c, j) => c.completed > (before.get(key(c, j)) ?? 0));
        perBackend.set(backend, (perBackend.get(backend) ?? 0) + 1);
        const connection = used < 0 ? "?" : `${used}/${stats.length} (${stats[used]!.address})`;
        console.log(`#${i} ${JSON.stringify(message)}  backend=${backend}  connection=${connection}`);
      } catch (error) {
        failures++;
        console.log(`#${i} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    console.log();
    console.log(
      table(
        ["backend", "calls"],
        [...perBackend].map(([b, n]) => [b, String(n)]),
      ),
    );
    console.log();
    console.log(connectionsTable(client.$channel.stats()));
  } finally {
    client.close();
  }
  return failures;
}

/** `client.$channel.stats()` as a table. */
export function connectionsTable(stats: readonly ConnectionStats[]): string {
  return table(
    ["connection", "address", "state", "role", "in flight", "completed", "age"],
    stats.map((c, i) => [
      String(i),
      c.address,
      c.state,
      c.role,
      String(c.inFlight),
      String(c.completed),
      c.ageMs === undefined ? "-" : `${(c.ageMs / 1000).toFixed(1)} s`,
    ]),
  );
}
