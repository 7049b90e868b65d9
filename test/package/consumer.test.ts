import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type CodeBlock, codeBlocks, docPages } from "../helpers/docs.js";

// What a team does with the package, outside this repository: `npm pack`, a
// fresh ESM TypeScript project that already depends on the lowest grpc-js we
// support, the README's install commands, `npx balanced-grpc generate` on the
// docs' protos, a strict type-check (of the TypeScript blocks of README.md and
// docs/*.md too), a program that serves and calls it, and every program of the
// docs run to its end. Once with npm's default layout, once with its isolated
// (linked) one, where a project can import only what it declares.

const root = join(import.meta.dirname, "../..");
const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as {
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};
/** The lowest @grpc/grpc-js balanced-grpc supports (its peer range's floor). */
const LOWEST_GRPC_JS = manifest.peerDependencies["@grpc/grpc-js"]!.replace(/^\^/, "");
const dev = (name: string) => `${name}@${manifest.devDependencies[name]}`;

let work: string;
let tarball: string;
/** The code blocks of README.md and docs/*.md. */
let blocks: CodeBlock[];

function sh(
  command: string,
  args: string[],
  cwd: string,
  timeout = 240_000,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_loglevel: "error" } },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stdout}\n${stderr}`))
          : resolve({ stdout, stderr }),
    );
  });
}

const DEFAULT_LAYOUT = "npm's default layout";
const LAYOUTS = {
  [DEFAULT_LAYOUT]: [],
  "npm's isolated layout (--install-strategy=linked)": ["--install-strategy=linked"],
} as const;
const projects: Record<string, string> = {};

/** A fresh project as a team has it (TypeScript, grpc-js at our lowest), then the README's install commands. */
async function freshProject(installFlags: readonly string[]): Promise<string> {
  const project = await mkdtemp(join(work, "project-"));
  await writeFile(
    join(project, "package.json"),
    JSON.stringify({ name: "shop", private: true, type: "module", version: "1.0.0" }),
  );
  const install = (...args: string[]) =>
    sh("npm", ["install", "--no-audit", "--no-fund", ...installFlags, ...args], project);
  await install(`@grpc/grpc-js@${LOWEST_GRPC_JS}`, "--save-dev", dev("typescript"), dev("@types/node"));
  await install(tarball); // npm install balanced-grpc
  await install("--save-dev", dev("@bufbuild/buf"), dev("ts-proto"));
  return project;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "balanced-grpc-consumer-"));
  const { stdout } = await sh("npm", ["pack", "--json", "--pack-destination", work], root);
  tarball = join(work, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  blocks = (await docPages(root)).flatMap(codeBlocks);
  // Both projects at once: installing mostly waits on npm.
  await Promise.all(
    Object.entries(LAYOUTS).map(async ([layout, flags]) => {
      projects[layout] = await freshProject(flags);
    }),
  );
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The code blocks of a language in the docs, skipping those marked `<!-- fragment -->` just before. */
function docBlocks(language: string): CodeBlock[] {
  return blocks.filter((block) => block.language === language && !block.fragment);
}

/** Where a block goes in the fresh project: docs/<page>-<line>.ts, so a compile error names its page and line. */
function blockFile(block: CodeBlock): string {
  return `docs/${block.page.replace(/\.md$/, "").replaceAll("/", "-")}-${block.line}.ts`;
}

/**
 * The example addresses of the docs' programs, and where they point when this test runs them: clients reach
 * the test's Orders server (orders-server.ts), servers listen on a free loopback port. The convention is in
 * docs/development.md ("Writing the docs").
 */
function exampleAddresses(ordersServer: string): [string, string][] {
  return [
    ["orders.internal:50051", ordersServer],
    ["orders-lb.internal:50051", ordersServer],
    ["0.0.0.0:50051", "127.0.0.1:0"],
  ];
}

/** Starts the project's compiled orders-server.js; resolves once it prints its address. */
async function startOrdersServer(project: string) {
  const child = spawn(process.execPath, ["dist/orders-server.js"], { cwd: project, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`orders-server.js exited (${code}) before printing its address\n${stderr}`);
  });
  const [address] = (await Promise.race([once(createInterface({ input: child.stdout }), "line"), exited])) as [string];
  exited.catch(() => {}); // it exits when stopped
  return {
    address,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
    },
  };
}

test("the README's install commands are the ones the fresh projects run", () => {
  const install = blocks.find(
    (block) =>
      block.page === "README.md" && block.language === "sh" && block.text.includes("npm install balanced-grpc"),
  );
  const commands = install?.text
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean);
  // freshProject installs the package (from its tarball), then buf and ts-proto (at our pinned versions);
  // the first test of each project runs generate.
  expect(commands).toEqual([
    "npm install balanced-grpc",
    "npm install --save-dev @bufbuild/buf ts-proto",
    "npx balanced-grpc generate",
  ]);
});

describe.each(Object.keys(LAYOUTS))("a fresh project, %s", (layout) => {
  let project: string;
  beforeAll(() => {
    project = projects[layout]!;
  });

  test("generate, type-check strictly (the docs' TypeScript too), serve and call", async () => {
    // The docs' protos, each opening with a comment that names its file.
    const protos = docBlocks("proto");
    expect(protos.length).toBeGreaterThan(1);
    for (const proto of protos) {
      const path = /^\/\/ (proto\/\S+\.proto)/.exec(proto.text)?.[1];
      expect(path, `the proto block at ${proto.page}:${proto.line} names its file on its first line`).toBeDefined();
      await mkdir(join(project, path!, ".."), { recursive: true });
      await writeFile(join(project, path!), proto.text);
    }
    const generated = await sh("npx", ["balanced-grpc", "generate"], project);
    expect(generated.stdout).toContain("createOrdersClient");

    const programs = docBlocks("ts");
    expect(programs.length).toBeGreaterThan(3);
    await mkdir(join(project, "docs"));
    for (const block of programs) {
      // Each block is its own module, importing from the project root as the docs show.
      await writeFile(join(project, blockFile(block)), block.text.replaceAll('"./generated/', '"../generated/'));
    }
    await writeFile(join(project, "main.ts"), await readFile(join(import.meta.dirname, "consumer-program.ts"), "utf8"));
    await writeFile(
      join(project, "orders-server.ts"),
      await readFile(join(import.meta.dirname, "orders-server.ts"), "utf8"),
    );
    await writeFile(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          outDir: "dist",
          types: ["node"],
        },
        include: ["main.ts", "orders-server.ts", "generated", "docs"],
      }),
    );
    await sh("npx", ["tsc", "-p", "tsconfig.json"], project);

    const { stdout } = await sh(process.execPath, ["dist/main.js"], project, 60_000);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
    expect(result).toEqual({
      order: {
        id: "o-1",
        status: "ORDER_STATUS_PLACED",
        createdAt: "2026-01-02T03:04:05.000Z",
        lines: 2,
        address: "1 Main St",
        labels: { gift: "yes" },
      },
      notFound: { isClientError: true, code: "NOT_FOUND" },
      retried: { attemptsOnServer: 2, retriesSeen: 1, middlewareCalls: 1 },
      listed: 3,
      imported: 4,
      ping: true,
      projectCredentials: true,
      deadlineSentToServer: true,
    });
  }, 120_000);

  test("one copy of grpc-js and of nice-grpc-common in the tree", async () => {
    for (const name of ["@grpc/grpc-js", "nice-grpc-common"]) {
      // Every place the package is found, as real paths: the linked layout links one copy into several places.
      const { stdout } = await sh("npm", ["ls", name, "--all", "--parseable"], project);
      const paths = stdout
        .trim()
        .split("\n")
        .filter((line) => line.includes(name));
      const copies = new Set(await Promise.all(paths.map((path) => realpath(path))));
      expect([...copies], name).toHaveLength(1);
    }
    const { stdout } = await sh("npm", ["ls", "@grpc/grpc-js", "--all"], project);
    const versions = new Set([...stdout.matchAll(/(?:^|\s)@grpc\/grpc-js@(\S+)/gm)].map((m) => m[1])); // not the store paths
    expect([...versions]).toEqual([LOWEST_GRPC_JS]); // the project's own copy, used by everything
  });

  test("the docs' buf.gen.yaml (ts-proto and the shipped plugin bin) generates the same clients", async () => {
    const [template] = docBlocks("yaml").filter((block) => block.text.includes("protoc-gen-balanced-grpc"));
    expect(template).toBeDefined();
    await writeFile(
      join(project, "buf.gen.own.yaml"),
      template!.text.replaceAll("out: generated", "out: generated-own"),
    );
    await sh("npx", ["buf", "generate", "proto", "--template", "buf.gen.own.yaml"], project);
    const own = await readFile(join(project, "generated-own/shop/orders/v1/orders_sdk.ts"), "utf8");
    const ours = await readFile(join(project, "generated/shop/orders/v1/orders_sdk.ts"), "utf8");
    expect(own).toBe(ours);
  });

  test("CommonJS callers can require() it (Node 20.19+)", async () => {
    await writeFile(
      join(project, "check.cjs"),
      `const { createServiceClient, pool, InvalidOptionError } = require("balanced-grpc");
const { OrdersDefinition } = require("./dist/generated/shop/orders/v1/orders.js");
try { pool(0); } catch (e) { if (!(e instanceof InvalidOptionError)) throw e; }
const client = createServiceClient(OrdersDefinition, { target: "127.0.0.1:1", strategy: pool(2) });
client.close();
console.log("required");
`,
    );
    const { stdout } = await sh(process.execPath, ["check.cjs"], project);
    expect(stdout).toContain("required");
  });
});

/**
 * Runs one of the docs' programs to its end; resolves to what went wrong, if
 * anything. A server that runs until it is told to stop (`untilSignalled`: the
 * docs' servers with `handleSignals: true`) is sent SIGTERM once it prints
 * "listening on …", as an orchestrator would, and must then exit 0 by itself.
 */
function runProgram(file: string, cwd: string, untilSignalled: boolean): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let signalled = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (untilSignalled && !signalled && /listening on /.test(output)) {
        signalled = true;
        child.kill("SIGTERM");
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? undefined : `exited ${code ?? signal}${signalled ? " after SIGTERM" : ""}\n${output}`);
    });
  });
}

// Once is enough: the project's own program above already runs in both layouts; the docs' programs were
// type-checked in both.
describe("the docs' programs, in the fresh project with npm's default layout (compiled above)", () => {
  test("every program in the docs runs to its end, against an Orders server", async () => {
    const project = projects[DEFAULT_LAYOUT]!;
    const server = await startOrdersServer(project);
    try {
      const failures: string[] = [];
      // A few at a time: each is a Node process that loads grpc-js.
      const queue = docBlocks("ts");
      const runNext = async (): Promise<void> => {
        const block = queue.shift();
        if (!block) return;
        const file = join(project, "dist", blockFile(block).replace(/\.ts$/, ".js"));
        let js = await readFile(file, "utf8");
        for (const [example, real] of exampleAddresses(server.address)) js = js.replaceAll(example, real);
        if (/\.internal\b/.test(js))
          failures.push(`${block.page}:${block.line}: an example host this test does not map`);
        await writeFile(file, js);
        const problem = await runProgram(file, project, /handleSignals: true/.test(block.text));
        if (problem) failures.push(`${block.page}:${block.line}: ${problem}`);
        return runNext();
      };
      await Promise.all([runNext(), runNext(), runNext()]);
      expect(failures).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe("a fresh project with the docs' OpenTelemetry setup, verbatim", () => {
  test("its otel.ts preloaded: our client spans, attempts and the server span reach its OTLP endpoint, and the metrics", async () => {
    // The tests above ran without @opentelemetry/api (nothing changes without it); now it joins their project.
    const project = projects[DEFAULT_LAYOUT]!;
    // The block that names itself otel.ts (a fragment: the projects above lack its packages), and the
    // command on its page that installs them.
    const setup = blocks.find((block) => block.language === "ts" && block.text.startsWith("// otel.ts"));
    const install = blocks.find(
      (block) => block.page === setup?.page && block.language === "sh" && block.text.includes("@opentelemetry/api"),
    );
    expect(setup && install, "the docs' otel.ts and the command that installs its packages").toBeTruthy();
    expect(install!.text.trim().split("\n"), "one npm install line").toHaveLength(1);
    await sh("sh", ["-c", `${install!.text.trim()} --no-audit --no-fund`], project);
    await writeFile(join(project, "otel.ts"), setup!.text);
    await writeFile(
      join(project, "observed.ts"),
      await readFile(join(import.meta.dirname, "observed-program.ts"), "utf8"),
    );
    await writeFile(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          // The package's own declarations are checked strictly by the test above; this one is about telemetry.
          skipLibCheck: true,
          outDir: "dist",
          types: ["node"],
        },
        include: ["otel.ts", "observed.ts"],
      }),
    );
    await sh("npx", ["tsc", "-p", "tsconfig.json"], project);

    // An OTLP/HTTP endpoint (JSON, as the exporters send by default) that keeps what it receives.
    const received: Record<string, string[]> = { "/v1/traces": [], "/v1/metrics": [] };
    const collector = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        received[request.url ?? ""]?.push(body);
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    collector.listen(0, "127.0.0.1");
    await once(collector, "listening");
    const { port } = collector.address() as { port: number };
    try {
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ["--import", "./dist/otel.js", "dist/observed.js"],
          {
            cwd: project,
            timeout: 60_000,
            env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
          },
          (error, out, err) => (error ? reject(new Error(`${error.message}\n${out}\n${err}`)) : resolve(out)),
        ),
      );
      expect(stdout).toContain("observed");
    } finally {
      collector.close();
    }
    const traces = received["/v1/traces"]!.join("\n");
    const spans = [...traces.matchAll(/"name":"([^"]+)","kind":(\d)/g)].map(([, name, kind]) => `${kind} ${name}`);
    // Three calls: a CLIENT span (kind 3 in OTLP) and an attempt (1) each, the server's SERVER span (2) each.
    expect(spans.filter((s) => s === "3 shop.echo.v1.Echo/Echo")).toHaveLength(3);
    expect(spans.filter((s) => s === "1 Attempt.shop.echo.v1.Echo/Echo")).toHaveLength(3);
    expect(spans.filter((s) => s === "2 shop.echo.v1.Echo/Echo")).toHaveLength(3);
    const metrics = received["/v1/metrics"]!.join("\n");
    for (const name of ["grpc.client.attempt.started", "grpc.client.call.duration", "balanced_grpc.connections"]) {
      expect(metrics).toContain(`"name":"${name}"`);
    }
  }, 300_000);
});
