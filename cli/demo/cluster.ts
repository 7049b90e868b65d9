import { type DnsServer, startDnsServer } from "../../harness/dns-server.js";
import { type ServeProcess, startServeProcess } from "../../harness/serve-process.js";
import { startTcpProxy, type TcpProxy } from "../../harness/tcp-proxy.js";

/** Backends on 127.0.0.1..N plus a spare on 127.0.0.N+1, a DNS name, an L4 proxy. */
export interface DemoCluster {
  /** The first `count` are in DNS and behind the proxy; the last is the spare for scale-out. */
  readonly backends: ServeProcess[];
  readonly dns: DnsServer;
  /** `dns://127.0.0.1:P/greeter.demo:PORT` */
  readonly dnsTarget: string;
  readonly proxy: TcpProxy;
  /** Puts the first `count` backends in DNS. */
  setDnsBackends(count: number): void;
  stop(): Promise<void>;
}

const NAME = "greeter.demo";

export async function startCluster({
  count,
  maxAgeMs,
  graceMs,
}: {
  count: number;
  maxAgeMs: number;
  graceMs: number;
}): Promise<DemoCluster> {
  const hosts = Array.from({ length: count + 1 }, (_, i) => `127.0.0.${i + 1}`);
  const args = ["--max-connection-age", `${maxAgeMs}ms`, "--max-connection-age-grace", `${graceMs}ms`];
  const first = await startServeProcess(hosts[0]!, 0, args);
  const port = Number(first.address.slice(first.address.lastIndexOf(":") + 1));
  const backends = [first, ...(await Promise.all(hosts.slice(1).map((h) => startServeProcess(h, port, args))))];
  const dns = await startDnsServer();
  const proxy = await startTcpProxy(backends.slice(0, count).map((b) => b.address));
  const cluster: DemoCluster = {
    backends,
    dns,
    dnsTarget: dns.target(NAME, port),
    proxy,
    setDnsBackends: (n) => dns.set(NAME, hosts.slice(0, n)),
    stop: async () => {
      await proxy.close();
      await dns.close();
      await Promise.all(backends.map((b) => b.stop()));
    },
  };
  cluster.setDnsBackends(count);
  return cluster;
}
