import type { ClientOptions } from "balanced-grpc";
import { createGreeterClient } from "../generated/helloworld/helloworld_sdk.js";
import { percentile } from "./load.js";
import { backendOf } from "./reference/greeter.js";

/** A client whose calls record which backend served each one (its x-backend header) and how long it took. */
export function countingClient(options: ClientOptions) {
  const client = createGreeterClient(options);
  const served = new Map<string, number>();
  const latencies = new Map<string, number[]>();
  let ok = 0;
  const call = async () => {
    let backend = "?";
    const started = performance.now();
    await client.sayHello({ name: "demo" }, { onHeader: (header) => (backend = backendOf(header) ?? "?") });
    served.set(backend, (served.get(backend) ?? 0) + 1);
    const list = latencies.get(backend) ?? [];
    list.push(performance.now() - started);
    latencies.set(backend, list);
    ok++;
  };
  const reset = () => {
    served.clear();
    latencies.clear();
  };
  /** p99 of the calls a backend served, ms. */
  const p99 = (backend: string) =>
    percentile(
      [...(latencies.get(backend) ?? [])].sort((a, b) => a - b),
      0.99,
    );
  return { client, served, latencies, call, reset, p99, ok: () => ok };
}
