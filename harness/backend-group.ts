import { createServer } from "node:net";
import { type Backend, type BackendOptions, startBackend } from "./backend.js";
import { type BackendProcess, type BackendProcessEvents, spawnBackend } from "./backend-process.js";

/** Backends on 127.0.0.1, 127.0.0.2, …, all on one port, as behind a DNS name. */
export interface Backends<B> {
  readonly list: B[];
  readonly port: number;
  /** `127.0.0.1:P`, `127.0.0.2:P`, … */
  readonly addresses: string[];
  /** `ipv4:127.0.0.1:P,127.0.0.2:P,…` */
  readonly target: string;
}

/** In-process backends, whose counters tests read directly. */
export interface InProcessBackends extends Backends<Backend> {
  totalCalls(): number;
  totalPeers(): number;
  /** Each backend's share of the calls, 0..1. */
  shares(): number[];
  reset(): void;
  shutdown(): Promise<void>;
}

/** The loopback address of the i-th backend (from 0). */
export const backendHost = (i: number) => `127.0.0.${i + 1}`;

/** A port that was free on 127.0.0.1 a moment ago. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `count` backends on one port, retrying another port if it is taken on some address. */
async function onOnePort<B extends { address: string }>(
  count: number,
  start: (address: string) => Promise<B>,
  stop: (backend: B) => Promise<void>,
): Promise<Backends<B>> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const list: B[] = [];
    try {
      for (let i = 0; i < count; i++) list.push(await start(`${backendHost(i)}:${port}`));
      const addresses = list.map((b) => b.address);
      return { list, port, addresses, target: `ipv4:${addresses.join(",")}` };
    } catch (error) {
      await Promise.all(list.map(stop));
      if (attempt >= 4) throw error;
    }
  }
}

/** `count` backends in this process. */
export async function startBackends(count: number, options: BackendOptions = {}): Promise<InProcessBackends> {
  const group = await onOnePort(
    count,
    (address) => startBackend({ ...options, address }),
    (b) => b.shutdown(100),
  );
  const { list } = group;
  const totalCalls = () => list.reduce((n, b) => n + b.calls, 0);
  return {
    ...group,
    totalCalls,
    totalPeers: () => list.reduce((n, b) => n + b.peers.size, 0),
    shares() {
      const total = totalCalls();
      return list.map((b) => (total === 0 ? 0 : b.calls / total));
    },
    reset: () => {
      for (const b of list) b.reset();
    },
    shutdown: async () => void (await Promise.all(list.map((b) => b.shutdown()))),
  };
}

/** `count` backends, each its own OS process. */
export function spawnBackends(
  count: number,
  options: Parameters<typeof spawnBackend>[0] = {},
  events: BackendProcessEvents = {},
): Promise<Backends<BackendProcess>> {
  return onOnePort(
    count,
    (address) => spawnBackend({ ...options, address }, events),
    (b) => b.kill(),
  );
}
