#!/usr/bin/env node
/**
 * protoc-gen-balanced-grpc: for every service in every proto file, writes
 * `<file>_sdk.ts` beside ts-proto's output with a typed factory
 * `create<Service>Client(options)` and a `<Service>SdkClient` type.
 *
 * The factories only bind a service definition to `createServiceClient`: all
 * strategy and middleware logic stays hand-written in the SDK, so regenerating
 * never changes behaviour.
 *
 * Options:
 * - `sdk_import`: where `createServiceClient` is imported from. Default
 *   `balanced-grpc`. A value starting with `.` is a path relative to the
 *   output root (this repository uses `../src/client.js`) and is rewritten
 *   relative to each generated file.
 */
import { posix } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { createEcmaScriptPlugin, type GeneratedFile, getComments, runNodeJs, type Schema } from "@bufbuild/protoplugin";

interface Options {
  sdkImport: string;
}

function parseOptions(raw: { key: string; value: string }[]): Options {
  const options: Options = { sdkImport: "balanced-grpc" };
  for (const { key, value } of raw) {
    if (key === "sdk_import" && value !== "") {
      options.sdkImport = value;
    } else {
      throw new Error(`protoc-gen-balanced-grpc: unknown option "${key}=${value}" (known: sdk_import)`);
    }
  }
  return options;
}

/** The specifier one generated file uses to reach the SDK. */
function sdkSpecifier(sdkImport: string, generatedFile: string): string {
  if (!sdkImport.startsWith(".")) return sdkImport;
  const relative = posix.relative(posix.dirname(generatedFile), sdkImport);
  return relative.startsWith(".") ? relative : `./${relative}`;
}

function printService(f: GeneratedFile, service: DescService): void {
  const name = service.name;
  const definition = `${name}Definition`;
  f.print(f.jsDoc(`A typed client for \`${service.typeName}\`, with \`close()\`.`));
  f.print(`export type ${name}SdkClient = SdkClient<typeof ${definition}>;`);
  f.print();
  const comment = getComments(service).leading?.trim();
  const doc = [
    `Creates a typed client for \`${service.typeName}\`.`,
    "",
    ...(comment ? [...comment.split("\n").map((line) => line.trim()), ""] : []),
    "@example",
    `const client = create${name}Client({ target: "dns:///my-service:50051", strategy: pool(4) });`,
    "// ... calls ...",
    "client.close();",
  ].join("\n");
  f.print(f.jsDoc(doc));
  f.print(`export function create${name}Client(`);
  f.print(`  options: ClientOptions<typeof ${definition}>,`);
  f.print(`): ${name}SdkClient {`);
  f.print(`  return createServiceClient(${definition}, options);`);
  f.print(`}`);
  f.print();
}

function generateTs(schema: Schema<Options>): void {
  for (const file of schema.files) {
    if (file.services.length === 0) continue;
    const path = `${file.name}_sdk.ts`;
    const f = schema.generateFile(path);
    f.preamble(file);
    f.print(
      `import { createServiceClient, type ClientOptions, type SdkClient } from "${sdkSpecifier(schema.options.sdkImport, path)}";`,
    );
    const definitions = file.services.map((s) => `${s.name}Definition`).join(", ");
    f.print(`import { ${definitions} } from "./${posix.basename(file.name)}.js";`);
    f.print();
    for (const service of file.services) printService(f, service);
  }
}

runNodeJs(
  createEcmaScriptPlugin({
    name: "protoc-gen-balanced-grpc",
    version: "v0.1.0",
    parseOptions,
    generateTs,
  }),
);
