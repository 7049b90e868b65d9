import { pickFirst, pool, roundRobin, type Strategy } from "balanced-grpc";

/** The three strategies as tests, benchmarks and the demo run them, with their display names. */
export function strategies(poolSize = 4): [name: string, strategy: Strategy][] {
  return [
    ["pickFirst()", pickFirst()],
    ["roundRobin()", roundRobin()],
    [`pool(${poolSize})`, pool(poolSize)],
  ];
}
