import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { freePort } from "./backend-group.js";

const run = promisify(execFile);

/** nginx as an L7 gRPC proxy in front of backends (Debian's nginx). */
export interface NginxProxy {
  /** `127.0.0.1:P`, where clients connect. */
  readonly address: string;
  stop(): Promise<void>;
}

/** Options of {@link startNginx}. */
export interface NginxOptions {
  /** Requests per client connection before nginx sends GOAWAY and closes it (nginx's default is 1000). */
  keepaliveRequests: number;
  /** Streams per client connection (nginx's default is 128). @default 128 */
  maxConcurrentStreams?: number;
}

/** Whether nginx is installed (apt-get install nginx). */
export async function hasNginx(): Promise<boolean> {
  return run("nginx", ["-v"]).then(
    () => true,
    () => false,
  );
}

/**
 * Starts nginx in the foreground (its own process, its own temporary prefix
 * and config) proxying gRPC (`grpc_pass`) to `backends` over HTTP/2.
 */
export async function startNginx(backends: readonly string[], options: NginxOptions): Promise<NginxProxy> {
  const prefix = await mkdtemp(join(tmpdir(), "balanced-grpc-nginx-"));
  const port = await freePort();
  const config = `
daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  upstream backends {
${backends.map((b) => `    server ${b};`).join("\n")}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port} http2;
    keepalive_requests ${options.keepaliveRequests};
    http2_max_concurrent_streams ${options.maxConcurrentStreams ?? 128};
    location / { grpc_pass grpc://backends; }
  }
}
`;
  await writeFile(join(prefix, "nginx.conf"), config);
  const child = spawn("nginx", ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-e", join(prefix, "error.log")], {
    stdio: "ignore",
  });
  const address = `127.0.0.1:${port}`;
  // Up once it accepts a connection.
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || i > 200) throw new Error(`nginx did not start (exit ${child.exitCode})`);
    await delay(25);
  }
  return {
    address,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGQUIT");
        await exited;
      }
      await rm(prefix, { recursive: true, force: true });
    },
  };
}
