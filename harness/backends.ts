import { type AddressInfo, createServer } from "node:net";
import {
  greeterService,
  type RunningServer,
  type ServerOptions,
  type ServiceRegistration,
  startServer,
} from "../src/index.js";

export { runCalls } from "./load.js";

/** A Greeter server on one loopback address that counts what it serves. */
export interface Backend {
  readonly name: string;
  readonly server: RunningServer;
  /** Calls served. */
  calls: number;
  /** Distinct client connections (`host:port` of the client side) seen. */
  readonly peers: Set<string>;
}

/** Backends on 127.0.0.1, 127.0.0.2, …, all on one port, as behind a DNS name. */
export interface Backends {
  readonly list: Backend[];
  readonly port: number;
  /** `ipv4:127.0.0.1:P,127.0.0.2:P,…` */
  readonly target: string;
  readonly addresses: string[];
  totalCalls(): number;
  totalPeers(): number;
  /** Each backend's share of the calls, 0..1. */
  shares(): number[];
  reset(): void;
  shutdown(): Promise<void>;
}

export interface BackendOptions extends Omit<ServerOptions, "address" | "services"> {
  /** Extra services per backend. */
  services?: (name: string) => ServiceRegistration[];
}

/** A port free on every one of `hosts` (the kernel picks it for the first). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startBackends(count: number, options: BackendOptions = {}): Promise<Backends> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      return await startOn(count, port, options);
    } catch (error) {
      if (attempt >= 4) throw error; // the port was taken on another address: try another
    }
  }
}

async function startOn(count: number, port: number, options: BackendOptions): Promise<Backends> {
  const list: Backend[] = [];
  const { services: extra, ...serverOptions } = options;
  try {
    for (let i = 1; i <= count; i++) {
      const name = `127.0.0.${i}`;
      const backend = { name, calls: 0, peers: new Set<string>() } as Backend & { server: RunningServer };
      const greeter = greeterService({
        backend: name,
        onCall: (context) => {
          backend.calls++;
          backend.peers.add(context.peer);
        },
      });
      backend.server = await startServer({
        ...serverOptions,
        address: `${name}:${port}`,
        services: [greeter, ...(extra?.(name) ?? [])],
      });
      list.push(backend);
    }
  } catch (error) {
    await Promise.all(list.map((b) => b.server.shutdown({ timeout: 100 })));
    throw error;
  }
  const addresses = list.map((b) => b.server.address);
  const totalCalls = () => list.reduce((n, b) => n + b.calls, 0);
  return {
    list,
    port,
    addresses,
    target: `ipv4:${addresses.join(",")}`,
    totalCalls,
    totalPeers: () => list.reduce((n, b) => n + b.peers.size, 0),
    shares() {
      const total = totalCalls();
      return list.map((b) => (total === 0 ? 0 : b.calls / total));
    },
    reset() {
      for (const b of list) {
        b.calls = 0;
        b.peers.clear();
      }
    },
    shutdown: async () => {
      await Promise.all(list.map((b) => b.server.shutdown({ timeout: 1000 })));
    },
  };
}
