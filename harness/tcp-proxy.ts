import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";

/** A running {@link startTcpProxy}. */
export interface TcpProxy {
  /** `host:port` clients connect to. */
  readonly address: string;
  readonly port: number;
  /** Connections accepted so far, per backend address. */
  readonly connectionsPerBackend: ReadonlyMap<string, number>;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

/**
 * A single-IP L4 load balancer: each incoming TCP connection is piped to the
 * next backend in turn, as a cloud network load balancer does. It knows nothing
 * of HTTP/2, so one long-lived gRPC connection stays on one backend.
 */
export async function startTcpProxy(backends: readonly string[], listen = "127.0.0.1:0"): Promise<TcpProxy> {
  let next = 0;
  const sockets = new Set<Socket>();
  const counts = new Map(backends.map((b) => [b, 0]));
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    const backend = backends[next++ % backends.length]!;
    counts.set(backend, (counts.get(backend) ?? 0) + 1);
    const colon = backend.lastIndexOf(":");
    const upstream = connect({ host: backend.slice(0, colon), port: Number(backend.slice(colon + 1)) });
    track(client);
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
  const colon = listen.lastIndexOf(":");
  const host = listen.slice(0, colon);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(listen.slice(colon + 1)), host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `${host}:${port}`,
    port,
    connectionsPerBackend: counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
