import { createServer, type IncomingMessage } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";

/** A running {@link startConnectProxy}. */
export interface ConnectProxy {
  /** `http://127.0.0.1:port`, for `grpc_proxy` / `http_proxy`. */
  readonly url: string;
  /** Every CONNECT request so far: what it asked for, and its `Proxy-Authorization`. */
  readonly requests: { target: string; authorization: string | undefined }[];
  /** Answers CONNECT with this status from now on (200 tunnels). */
  setStatus(status: number): void;
  /** Stops listening and destroys every tunnel. */
  close(): Promise<void>;
}

/**
 * An HTTP CONNECT proxy, as squid or a corporate egress proxy is to a gRPC
 * client that honours `grpc_proxy`: each CONNECT host:port is answered 200
 * and tunnelled to that address.
 */
export async function startConnectProxy(): Promise<ConnectProxy> {
  const requests: ConnectProxy["requests"] = [];
  const sockets = new Set<Socket>();
  let status = 200;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const server = createServer((_request, response) => response.writeHead(405).end());
  server.on("connect", (request: IncomingMessage, client: Socket, head: Buffer) => {
    track(client);
    const target = request.url ?? "";
    requests.push({ target, authorization: request.headers["proxy-authorization"] });
    if (status !== 200) {
      client.end(`HTTP/1.1 ${status} Refused\r\n\r\n`);
      return;
    }
    const separator = target.lastIndexOf(":");
    const host = target.slice(0, separator).replace(/^\[|\]$/g, "");
    const upstream = connect(Number(target.slice(separator + 1)), host);
    track(upstream);
    upstream.once("connect", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.once("error", end);
    client.once("error", end);
    upstream.once("close", end);
    client.once("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setStatus: (next) => {
      status = next;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
