import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { startDnsServer, type DnsServer } from "../../dev/dns-server.js";
import { startTcpProxy, type TcpProxy } from "../../dev/tcp-proxy.js";
import type { ServeStats } from "../serve.js";

/** One `balanced-grpc serve --control` process of the demo. */
export interface DemoBackend {
  /** 127.0.0.k, also its name in the x-backend header. */
  readonly host: string;
  readonly address: string;
  stats(): Promise<ServeStats>;
  reset(): Promise<void>;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** A new process on the same address. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Backends on 127.0.0.1..N plus a spare on 127.0.0.N+1, a DNS name, an L4 proxy. */
export interface DemoCluster {
  /** The first `count` are in DNS and behind the proxy; the last is the spare for scale-out. */
  readonly backends: DemoBackend[];
  readonly dns: DnsServer;
  /** `dns://127.0.0.1:P/greeter.demo:PORT` */
  readonly dnsTarget: string;
  readonly proxy: TcpProxy;
  /** Puts the first `count` backends in DNS. */
  setDnsBackends(count: number): void;
  stop(): Promise<void>;
}

const NAME = "greeter.demo";

/** The backend processes run this same CLI (from dist/ or through tsx alike). */
function spawnServe(host: string, port: number, maxAgeMs: number, graceMs: number): ChildProcess {
  return spawn(
    process.execPath,
    [...process.execArgv, process.argv[1]!, "serve", "--control", "--host", host, "--port", String(port), "--name", host,
      "--max-connection-age", `${maxAgeMs}ms`, "--max-connection-age-grace", `${graceMs}ms`],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
}

async function startBackend(host: string, port: number, maxAgeMs: number, graceMs: number): Promise<DemoBackend> {
  let child!: ChildProcess;
  let answers: ((line: string) => void)[] = [];
  let address = "";
  const launch = async () => {
    // After the first start, the port is the one actually bound (port 0 picks one).
    if (address) port = Number(address.slice(address.lastIndexOf(":") + 1));
    child = spawnServe(host, port, maxAgeMs, graceMs);
    answers = [];
    const lines = createInterface({ input: child.stdout! });
    address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backend ${host} did not start`)), 20_000);
      child.once("exit", (code) => reject(new Error(`backend ${host} exited (${code}) before listening`)));
      lines.on("line", (line) => {
        const match = /^listening on (\S+)/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        } else {
          answers.shift()?.(line);
        }
      });
    });
  };
  const ask = (command: string) =>
    new Promise<ServeStats>((resolve) => {
      answers.push((line) => resolve(JSON.parse(line) as ServeStats));
      child.stdin!.write(`${command}\n`);
    });
  const end = async (signal: NodeJS.Signals | "stdin") => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    if (signal === "stdin") child.stdin!.end();
    else child.kill(signal);
    await exited;
  };
  await launch();
  return {
    host,
    get address() {
      return address;
    },
    stats: () => ask("stats"),
    reset: async () => void (await ask("reset")),
    kill: () => end("SIGKILL"),
    restart: async () => {
      await end("SIGKILL");
      await launch();
    },
    stop: () => end("stdin"),
  };
}

export async function startCluster({ count, maxAgeMs, graceMs }: { count: number; maxAgeMs: number; graceMs: number }): Promise<DemoCluster> {
  const hosts = Array.from({ length: count + 1 }, (_, i) => `127.0.0.${i + 1}`);
  const first = await startBackend(hosts[0]!, 0, maxAgeMs, graceMs);
  const port = Number(first.address.slice(first.address.lastIndexOf(":") + 1));
  const backends = [first, ...(await Promise.all(hosts.slice(1).map((h) => startBackend(h, port, maxAgeMs, graceMs))))];
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
