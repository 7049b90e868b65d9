#!/usr/bin/env node
// `balanced-grpc`, the command the package ships: code generation only.
import { createRequire } from "node:module";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { GenerateError, generate } from "./generate.js";

const HELP = `Usage: balanced-grpc generate [--proto DIR] [--out DIR]

Compiles every .proto file under DIR (default proto/) into TypeScript under
--out (default generated/): ts-proto's messages and nice-grpc definitions,
and a create<Service>Client factory per service in <file>_sdk.ts.
Needs @bufbuild/buf and ts-proto installed in the project:

  npm install --save-dev @bufbuild/buf ts-proto

Options:
  --proto DIR   folder of .proto files (default: proto)
  --out DIR     folder for the generated code, inside the project (default: generated)
  -h, --help    this help
  -v, --version the version of balanced-grpc`;

function usage(message: string): never {
  console.error(`balanced-grpc: ${message}\n\n${HELP}`);
  process.exit(2);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: {
      proto: { type: "string", default: "proto" },
      out: { type: "string", default: "generated" },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "v", default: false },
    },
  });
}
try {
  parsed = parse();
} catch (error) {
  usage((error as Error).message);
}
const { values, positionals } = parsed;
if (values.version) {
  // dist/codegen/bin.js when installed, codegen/bin.ts in the repository.
  const require = createRequire(import.meta.url);
  const manifest = ["../../package.json", "../package.json"]
    .map((path) => {
      try {
        return require(path) as { name?: string; version: string };
      } catch {
        return undefined;
      }
    })
    .find((m) => m?.name === "balanced-grpc");
  console.log(manifest?.version);
  process.exit(0);
}
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const [command, ...extra] = positionals;
if (command !== "generate") usage(command === undefined ? "which command?" : `unknown command "${command}"`);
if (extra.length > 0) usage(`unexpected arguments: ${extra.join(" ")}`);

try {
  const result = await generate({ cwd: process.cwd(), proto: values.proto, out: values.out });
  const out = relative(process.cwd(), values.out) || ".";
  console.log(
    `balanced-grpc generate: ${result.written.length} written, ${result.unchanged.length} unchanged, ` +
      `${result.removed.length} removed in ${out}/`,
  );
  if (result.factories.length > 0) console.log(`  clients: ${result.factories.join(", ")}`);
} catch (error) {
  if (error instanceof GenerateError) {
    console.error(`balanced-grpc generate: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
