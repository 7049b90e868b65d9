import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { access, copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

const run = promisify(execFile);
/** The repository: where package.json is, above this file (harness/, or .build/harness/ when compiled). */
const ROOT = [join(import.meta.dirname, ".."), join(import.meta.dirname, "..", "..")].find((dir) =>
  existsSync(join(dir, "proto")),
)!;
const CACHE = join(ROOT, "node_modules", ".cache", "balanced-grpc-go");

/** A benchmark server in another process. */
export interface BenchServer {
  /** `host:port` */
  readonly address: string;
  /** What it is, for the report: "Go (grpc-go 1.33)" or "Node (grpc-js)". */
  readonly kind: string;
  /**
   * Sends one command on stdin (Go server: "stall-every 50", "health
   * NOT_SERVING", "calls", … see harness/go/main.go) and resolves with its
   * answer (what follows "ok") once it is applied.
   */
  control?(command: string): Promise<string>;
  stop(): Promise<void>;
}

/** The Go programs harness/go holds: its main file, and the protos it serves (below `protoRoot`). */
const GO_PROGRAMS = {
  /** The benchmark server (harness/go/main.go) with the project's sample protos. */
  bench: {
    main: "harness/go/main.go",
    protoRoot: "proto",
    protos: ["helloworld/helloworld.proto", "routeguide/route_guide.proto"],
  },
  /** gRPC's interop test server (harness/go/interop/main.go) with grpc.testing's protos (test/interop/proto). */
  interop: {
    main: "harness/go/interop/main.go",
    protoRoot: "test/interop/proto",
    protos: ["grpc/testing/empty.proto", "grpc/testing/messages.proto", "grpc/testing/test.proto"],
  },
} as const;

/** Which Go program {@link buildGoServer} builds. */
export type GoProgram = keyof typeof GO_PROGRAMS;

/**
 * Builds a Go server (by default the benchmark server, harness/go/main.go;
 * "interop": harness/go/interop/main.go), with its protos compiled by
 * protoc-gen-go, if it is not built yet, with Debian's Go and grpc-go in
 * GOPATH mode: no module downloads. Resolves to the binary, or to undefined
 * with the reason when the toolchain is missing.
 */
export async function buildGoServer(program: GoProgram = "bench"): Promise<{ binary?: string; reason?: string }> {
  for (const tool of ["go", "protoc", "protoc-gen-go"]) {
    try {
      await run("sh", ["-c", `command -v ${tool}`]);
    } catch {
      return {
        reason: `${tool} is not installed (apt-get install golang-go golang-google-grpc-dev golang-google-protobuf-dev protobuf-compiler protoc-gen-go-1-3)`,
      };
    }
  }
  const { main, protoRoot, protos } = GO_PROGRAMS[program];
  // A GOPATH package of the program's own: its protos' Go packages are below it.
  const goPackage = `bg${program}`;
  const hash = createHash("sha256");
  for (const file of [main, ...protos.map((proto) => join(protoRoot, proto))])
    hash.update(await readFile(join(ROOT, file)));
  const binary = join(CACHE, `${program}-${hash.digest("hex").slice(0, 12)}`);
  if (
    await access(binary).then(
      () => true,
      () => false,
    )
  )
    return { binary };
  const gopath = join(CACHE, `gopath-${program}`);
  await rm(gopath, { recursive: true, force: true });
  const out = join(gopath, "src", goPackage);
  // One Go package per proto folder (protoc-gen-go 1.3 compiles a package's files in one run).
  for (const folder of new Set(protos.map((proto) => dirname(proto)))) {
    const files = protos.filter((proto) => dirname(proto) === folder);
    await mkdir(join(out, folder), { recursive: true });
    // The protos' go_package (if any) names their authors' repositories; map them into this build's GOPATH.
    const options = [
      "plugins=grpc",
      "paths=source_relative",
      ...files.map((file) => `M${file}=${goPackage}/${folder}`),
    ];
    await run("protoc", [
      "-I",
      join(ROOT, protoRoot),
      `--go_out=${options.join(",")}:${out}`,
      ...files.map((file) => join(ROOT, protoRoot, file)),
    ]);
  }
  await copyFile(join(ROOT, main), join(out, "main.go"));
  await run("go", ["build", "-o", binary, goPackage], {
    cwd: gopath,
    env: {
      ...process.env,
      GO111MODULE: "off",
      GOPATH: `${gopath}:/usr/share/gocode`,
      GOCACHE: join(CACHE, "gocache"),
    },
  }).catch(async (error: { stderr?: string }) => {
    await writeFile(join(CACHE, `build-error-${program}.txt`), error.stderr ?? String(error));
    throw new Error(`go build failed: ${error.stderr ?? error}`);
  });
  return { binary };
}

/**
 * Starts the built Go server on a loopback port, on half the cores
 * (GOMAXPROCS) and the client the rest: a Go server free to use every core
 * takes CPU from the client it serves, and a benchmark then measures the
 * scheduler, not the client.
 */
export function startGoServer(binary: string, args: string[] = []): Promise<BenchServer> {
  const procs = String(Math.max(1, Math.floor(cpus().length / 2)));
  return startListeningProcess(binary, ["-addr", "127.0.0.1:0", ...args], `Go (grpc-go 1.33, GOMAXPROCS=${procs})`, {
    GOMAXPROCS: procs,
  });
}

/**
 * Starts a process that prints "listening on ADDRESS" and exits when its
 * stdin closes; `env` is added to this process's environment.
 */
async function startListeningProcess(
  command: string,
  args: string[],
  kind: string,
  env: Record<string, string> = {},
): Promise<BenchServer> {
  const child: ChildProcess = spawn(command, args, {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const lines = createInterface({ input: child.stdout! });
  /** Answers to knob changes, in order. */
  const answers: ((line: string) => void)[] = [];
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start`)), 20_000);
    child.once("exit", (code) => reject(new Error(`${kind} server exited (${code}) before listening`)));
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
  return {
    address,
    kind,
    control: async (command) => {
      const answer = new Promise<string>((resolve) => answers.push(resolve));
      child.stdin!.write(`${command}\n`);
      const line = await answer;
      if (line !== "ok" && !line.startsWith("ok ")) throw new Error(`${kind} server refused "${command}": ${line}`);
      return line.slice(3);
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.stdin!.end();
      await exited;
    },
  };
}

/** The Go server's binary, built if needed; a benchmark that cannot run without it says why and exits 1. */
export async function requireGoServer(benchmark: string): Promise<string> {
  const { binary, reason } = await buildGoServer();
  if (binary) return binary;
  process.stderr.write(`${benchmark} needs the Go server: ${reason}\n`);
  process.exit(1);
}
