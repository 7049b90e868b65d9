#!/usr/bin/env node
// The repository's own command (`npm run cli -- <command>`, `npm start` for the
// demo): demo, serve, call, bench, and generate as the package ships it. Not
// shipped: the demo and benchmarks need dev-only packages (dns2, commander).
import { Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "./duration.js";

const integer = (min: number, max: number) => (text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
  }
  return n;
};
const duration = (text: string) => {
  try {
    return parseDuration(text);
  } catch {
    throw new InvalidArgumentError('expected a duration such as "500ms", "2s", "1m"');
  }
};
const list = (text: string) => text.split(",").map((part) => integer(1, 100_000)(part.trim()));

const program = new Command("balanced-grpc")
  .description("Typed gRPC clients that spread calls over servers: pickFirst, roundRobin, pool(n).")
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
  .showHelpAfterError();

program
  .command("demo")
  .description("start a local cluster on loopback and show each strategy at work (exit 0 if all behave)")
  .addOption(
    new Option("--backends <n>", "Greeter backends in DNS, on 127.0.0.1..N (spares go after)")
      .default(3)
      .argParser(integer(2, 8)),
  )
  .addOption(
    new Option("--duration <d>", "load per strategy in the spread scene").default(2000, "2s").argParser(duration),
  )
  .addOption(new Option("--pool-size <n>", "n of pool(n)").default(4).argParser(integer(1, 64)))
  .addOption(new Option("--concurrency <n>", "calls in flight").default(50).argParser(integer(1, 1000)))
  .addOption(
    new Option("--max-connection-age <d>", "the backends' max connection age").default(3000, "3s").argParser(duration),
  )
  .addOption(
    new Option("--client-max-age <d>", "the client max connection age of the L4 scale-out scene (at least 1s)")
      .default(2000, "2s")
      .argParser(duration),
  )
  .option("--json", "print the results as one JSON line on stdout (the tables go to stderr)", false)
  .action(
    async (options: {
      backends: number;
      duration: number;
      poolSize: number;
      concurrency: number;
      maxConnectionAge: number;
      clientMaxAge: number;
      json: boolean;
    }) => {
      // The demo gives its backends a DNS name served by an in-process DNS
      // server (dns://127.0.0.1:P/name). grpc-js asks a DNS server named in the
      // target only with this set before it loads, hence the late import below.
      // This is the demo program's own process: the SDK never sets it.
      process.env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER ??= "true";
      const { runDemo } = await import("./demo/run-demo.js");
      const ok = await runDemo({
        ...options,
        durationMs: options.duration,
        maxAgeMs: options.maxConnectionAge,
        clientMaxAgeMs: options.clientMaxAge,
      });
      process.exitCode = ok ? 0 : 1;
    },
  );

program
  .command("call")
  .description("call Greeter.SayHello; print each reply with the backend and connection that served it, then stats")
  .requiredOption(
    "--target <target>",
    "e.g. 127.0.0.1:50051, dns:///greeter:50051, ipv4:127.0.0.1:50051,127.0.0.2:50051",
  )
  .addOption(
    new Option("--strategy <name>", "how calls spread")
      .choices(["pickFirst", "roundRobin", "pool"])
      .default("pickFirst"),
  )
  .addOption(
    new Option(
      "--size <n>",
      "connections per address, with --strategy pool (without it the pool sizes itself)",
    ).argParser(integer(1, 1024)),
  )
  .addOption(
    new Option("--pick <pick>", "how a pool picks a connection, with --strategy pool").choices(["p2c", "roundRobin"]),
  )
  .addOption(
    new Option("--max-connection-age <d>", "replace each client connection after this long").argParser(duration),
  )
  .option("--outlier-detection", "eject failing backends for a while", false)
  .option("--name <name>", "the name to greet", "world")
  .addOption(new Option("--count <n>", "calls to make, one after another").default(1).argParser(integer(1, 100_000)))
  .addOption(new Option("--deadline <d>", "deadline of each call").default(5_000, "5s").argParser(duration))
  .action(
    async (options: {
      target: string;
      strategy: "pickFirst" | "roundRobin" | "pool";
      size?: number;
      pick?: "p2c" | "roundRobin";
      maxConnectionAge?: number;
      outlierDetection: boolean;
      name: string;
      count: number;
      deadline: number;
    }) => {
      // A target that names its DNS server (dns://server/name:port) is only
      // honoured by grpc-js with this set before it loads: this command's own
      // process, not the SDK, opts in.
      if (/^dns:\/\/[^/]/.test(options.target)) process.env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER ??= "true";
      const { callCommand } = await import("./call.js");
      const client = {
        target: options.target,
        strategy: options.strategy,
        size: options.size,
        pick: options.pick,
        maxConnectionAge: options.maxConnectionAge,
        outlierDetection: options.outlierDetection,
      } as never;
      const failures = await callCommand({
        client,
        name: options.name,
        count: options.count,
        deadlineMs: options.deadline,
      });
      process.exitCode = failures === 0 ? 0 : 1;
    },
  );

program
  .command("serve")
  .description("serve the reference Greeter and RouteGuide services")
  .addOption(new Option("--host <host>", "address to listen on (0.0.0.0 for every interface)").default("127.0.0.1"))
  .addOption(
    new Option("--port <port>", "port to listen on (0: any free port)").default(50051).argParser(integer(0, 65535)),
  )
  .option("--name <name>", "backend name sent in the x-backend response header (default: the host)")
  .addOption(
    new Option(
      "--max-connection-age <d>",
      "close each connection after this long (e.g. 30s); default: never",
    ).argParser(duration),
  )
  .addOption(
    new Option(
      "--max-connection-age-grace <d>",
      "after that, let running calls finish for this long (e.g. 10s); must exceed your longest call",
    ).argParser(duration),
  )
  .addOption(
    new Option("--shutdown-timeout <d>", "on SIGTERM/SIGINT, force-close after draining this long")
      .default(10_000, "10s")
      .argParser(duration),
  )
  .addOption(
    new Option("--slow <d>", "answer each SayHello this much later (a slow backend)").default(0).argParser(duration),
  )
  .addOption(
    new Option("--fail-every <n>", "fail every n-th SayHello with UNAVAILABLE")
      .default(0)
      .argParser(integer(0, 1_000_000)),
  )
  .addOption(
    new Option("--route-features <n>", "serve RouteGuide with n generated features (streaming benchmarks)").argParser(
      integer(1, 1_000_000),
    ),
  )
  .action(
    async (options: {
      host: string;
      port: number;
      name?: string;
      maxConnectionAge?: number;
      maxConnectionAgeGrace?: number;
      shutdownTimeout: number;
      slow: number;
      failEvery: number;
      routeFeatures?: number;
    }) => {
      const { serve } = await import("./serve.js");
      await serve({
        ...options,
        name: options.name,
        slowMs: options.slow,
        maxConnectionAge: options.maxConnectionAge,
        maxConnectionAgeGrace: options.maxConnectionAgeGrace,
        routeFeatures: options.routeFeatures,
      });
    },
  );

program
  .command("generate")
  .description("compile proto/ into generated/, as `npx balanced-grpc generate` does in a project of yours")
  .option("--proto <dir>", "folder of .proto files", "proto")
  .option("--out <dir>", "folder for the generated code", "generated")
  .action(async (options: { proto: string; out: string }) => {
    const { generate, GenerateError } = await import("../codegen/generate.js");
    try {
      const result = await generate({ cwd: process.cwd(), ...options });
      console.log(
        `${result.written.length} written, ${result.unchanged.length} unchanged, ${result.removed.length} removed`,
      );
    } catch (error) {
      if (!(error instanceof GenerateError)) throw error;
      console.error(`error: ${error.message}`);
      process.exit(2);
    }
  });

program
  .command("bench")
  .description("benchmark against raw grpc-js and plain nice-grpc (tables, then one JSON line); never fails on speed")
  .addOption(
    new Option("--rounds <n>", "interleaved rounds, every other one in reverse order; medians are reported")
      .default(4)
      .argParser(integer(1, 20)),
  )
  .addOption(new Option("--duration <d>", "load per cell").default(3000, "3s").argParser(duration))
  .addOption(
    new Option("--concurrency <list>", "concurrencies, comma-separated")
      .default([1, 10, 100], "1,10,100")
      .argParser(list),
  )
  .addOption(
    new Option("--pool-sizes <list>", "pool sizes for the RSS measurement")
      .default([1, 8, 64, 256], "1,8,64,256")
      .argParser(list),
  )
  .option("--node-server", "benchmark against a Node server even when Go is available", false)
  .option("--quick", "unary at c=100 only, and no RSS (a smoke run)", false)
  .option("--json", "tables to stderr; only the JSON line on stdout", false)
  .action(
    async (options: {
      rounds: number;
      duration: number;
      concurrency: number[];
      poolSizes: number[];
      nodeServer: boolean;
      quick: boolean;
      json: boolean;
    }) => {
      const { runBench } = await import("../bench/run-bench.js");
      await runBench({
        rounds: options.rounds,
        durationMs: options.duration,
        concurrencies: options.concurrency,
        poolSizes: options.poolSizes,
        nodeServer: options.nodeServer,
        quick: options.quick,
        json: options.json,
      });
    },
  );

program
  .command("bench-rss", { hidden: true })
  .description("(internal) print the RSS of one pool(n) client with every connection up, as JSON")
  .requiredOption("--target <target>")
  .requiredOption("--size <n>", "", integer(1, 1024))
  .option("--max-connection-age <ms>", "", integer(1_000, 1_000_000))
  .action(async (options: { target: string; size: number; maxConnectionAge?: number }) => {
    const { rssProbe } = await import("../bench/rss.js");
    process.stdout.write(JSON.stringify(await rssProbe(options.target, options.size, options.maxConnectionAge)));
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Bad option values from the SDK (InvalidOptionError) are usage errors too.
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
