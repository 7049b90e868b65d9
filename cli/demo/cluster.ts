import { backendHost } from "../../harness/backend-group.js";
import { type BackendProcess, spawnBackend } from "../../harness/backend-process.js";
import { type DnsServer, startDnsServer } from "../../harness/dns-server.js";
import { startTcpProxy, type TcpProxy } from "../../harness/tcp-proxy.js";

/**
 * The demo's local cluster, every backend its own process on a loopback
 * address of its own:
 * - `aged`: backends with a max connection age, `count` of them in DNS (and
 *   behind `proxy`), plus a spare to add to DNS;
 * - `plain`: backends without max age behind `plainProxy` (servers that are
 *   not ours), plus a spare to add behind it.
 */
export interface DemoCluster {
  readonly aged: BackendProcess[];
  readonly plain: BackendProcess[];
  readonly dns: DnsServer;
  /** `dns://127.0.0.1:P/greeter.demo:PORT` */
  readonly dnsTarget: string;
  /** A single-IP L4 balancer in front of the first `count` aged backends. */
  readonly proxy: TcpProxy;
  /** A single-IP L4 balancer in front of the first `count` plain backends. */
  readonly plainProxy: TcpProxy;
  /** Puts the first `n` aged backends in DNS. */
  setDnsBackends(n: number): void;
  stop(): Promise<void>;
}

const NAME = "greeter.demo";

export async function startCluster(options: {
  count: number;
  maxAgeMs: number;
  graceMs: number;
}): Promise<DemoCluster> {
  const { count } = options;
  const aged = { maxConnectionAge: options.maxAgeMs, maxConnectionAgeGrace: options.graceMs };
  const first = await spawnBackend({ address: `${backendHost(0)}:0`, ...aged });
  const port = Number(first.address.slice(first.address.lastIndexOf(":") + 1));
  const hosts = Array.from({ length: 2 * (count + 1) }, (_, i) => backendHost(i));
  const rest = await Promise.all(
    hosts.slice(1).map((host, i) => spawnBackend({ address: `${host}:${port}`, ...(i < count ? aged : {}) })),
  );
  const agedBackends = [first, ...rest.slice(0, count)];
  const plain = rest.slice(count);
  const dns = await startDnsServer();
  const proxy = await startTcpProxy(agedBackends.slice(0, count).map((b) => b.address));
  const plainProxy = await startTcpProxy(plain.slice(0, count).map((b) => b.address));
  const cluster: DemoCluster = {
    aged: agedBackends,
    plain,
    dns,
    dnsTarget: dns.target(NAME, port),
    proxy,
    plainProxy,
    setDnsBackends: (n) => dns.set(NAME, hosts.slice(0, n)),
    stop: async () => {
      await proxy.close();
      await plainProxy.close();
      await dns.close();
      await Promise.all([...agedBackends, ...plain].map((b) => b.stop()));
    },
  };
  cluster.setDnsBackends(count);
  return cluster;
}
