import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { hostPort } from "./address.js";

/** A running {@link startTcpProxy}. */
export interface TcpProxy {
  /** `host:port` clients connect to. */
  readonly address: string;
  readonly port: number;
  /** Connections accepted so far, per backend address. */
  readonly connectionsPerBackend: ReadonlyMap<string, number>;
  /** Client connections open now. */
  openConnections(): number;
  /** Deals new connections over these backends from now on (scale out or in behind the balancer). */
  setBackends(backends: readonly string[]): void;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

/**
 * A single-IP L4 load balancer: each incoming TCP connection is piped to the
 * next backend in turn, as a cloud network load balancer does. It knows nothing
 * of HTTP/2, so one long-lived gRPC connection stays on one backend.
 */
export async function startTcpProxy(initial: readonly string[], listen = "127.0.0.1:0"): Promise<TcpProxy> {
  let backends = [...initial];
  let next = 0;
  const sockets = new Set<Socket>();
  const counts = new Map(backends.map((b) => [b, 0]));
  const clients = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    const backend = backends[next++ % backends.length]!;
    counts.set(backend, (counts.get(backend) ?? 0) + 1);
    const upstream = connect(hostPort(backend));
    track(client);
    clients.add(client);
    client.once("close", () => clients.delete(client));
    track(upstream);
    // Forward each write at once, as a kernel-level balancer would; with Nagle's
    // algorithm on, small HTTP/2 frames wait ~40 ms for an ACK.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream).pipe(client);
    // One side failing ends the other: like a real balancer resetting the flow.
    client.once("error", () => upstream.destroy());
    upstream.once("error", () => client.destroy());
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
  });
  const { host, port: listenPort } = hostPort(listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `${host}:${port}`,
    port,
    connectionsPerBackend: counts,
    setBackends: (list) => {
      backends = [...list];
    },
    openConnections: () => clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
