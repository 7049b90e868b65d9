import dns2 from "dns2";

const { Packet } = dns2;

/**
 * A real DNS server on loopback whose A records can be changed at run time:
 * the tests' and the demo's stand-in for a service's DNS name.
 */
export interface DnsServer {
  readonly port: number;
  /** `dns://127.0.0.1:PORT/name:port`: a grpc-js target resolved by this server. */
  target(name: string, port: number): string;
  /** Sets the A records of `name`. */
  set(name: string, addresses: string[]): void;
  /** Queries answered so far, by type (`A`, `AAAA`, `TXT`, …). */
  readonly queries: Map<string, number>;
  close(): Promise<void>;
}

export async function startDnsServer(): Promise<DnsServer> {
  const records = new Map<string, string[]>();
  const queries = new Map<string, number>();
  const typeNames = new Map(Object.entries(Packet.TYPE).map(([k, v]) => [v as number, k]));
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      for (const question of request.questions) {
        const type = typeNames.get(question.type) ?? String(question.type);
        queries.set(type, (queries.get(type) ?? 0) + 1);
        if (question.type !== Packet.TYPE.A) continue;
        for (const address of records.get(question.name.toLowerCase()) ?? []) {
          response.answers.push(
            new Packet.Resource({ name: question.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 1, address }),
          );
        }
      }
      send(response);
    },
  });
  const bound = await server.listen({ udp: { port: 0, address: "127.0.0.1" } });
  const port = bound.udp!.port;
  return {
    port,
    target: (name, p) => `dns://127.0.0.1:${port}/${name}:${p}`,
    set: (name, addresses) => void records.set(name.toLowerCase(), addresses),
    queries,
    close: () => server.close(),
  };
}
