#!/usr/bin/env node
// `balanced-grpc`, the command the package ships: code generation only.
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { GenerateError, generate } from "./generate.js";
import { packageVersion } from "./package-version.js";

const HELP = `Usage: balanced-grpc generate [--proto DIR] [--out DIR] [--force]

Compiles every .proto file under DIR (default proto/) into TypeScript under
--out (default generated/): ts-proto's messages and nice-grpc definitions,
and a create<Service>Client factory per service in <file>_sdk.ts.
Removes only files that --out's .balanced-grpc-manifest.json lists as
written by the last run and that are unchanged since (commit it too).
Needs @bufbuild/buf and ts-proto installed in the project:

  npm install --save-dev @bufbuild/buf ts-proto

Options:
  --proto DIR   folder of .proto files (default: proto)
  --out DIR     folder for the generated code, inside the project (default: generated)
  --force       run buf even if nothing changed since the last run
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
      force: { type: "boolean", default: false },
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
  console.log(packageVersion());
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
  const result = await generate({ cwd: process.cwd(), proto: values.proto, out: values.out, force: values.force });
  const out = relative(process.cwd(), values.out) || ".";
  console.log(
    `balanced-grpc generate: ${result.written.length} written, ${result.unchanged.length} unchanged, ` +
      `${result.removed.length} removed in ${out}/` +
      (result.upToDate ? " (protos, options and versions as in the last run: buf not run)" : ""),
  );
  for (const file of result.kept) {
    console.log(
      `  kept ${out}/${file}: generated earlier, no proto makes it now, but edited since; delete it if unused`,
    );
  }
  if (result.factories.length > 0) console.log(`  clients: ${result.factories.join(", ")}`);
} catch (error) {
  if (error instanceof GenerateError) {
    console.error(`balanced-grpc generate: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
