#!/usr/bin/env node
/**
 * protoc-gen-balanced-grpc: for every service in every proto file, writes
 * `<file>_sdk.ts` beside ts-proto's output with a typed factory
 * `create<Service>Client(options)` and a `<Service>SdkClient` type.
 *
 * The factories only bind a service definition to `createServiceClient`,
 * imported from `balanced-grpc`: all strategy and call logic stays in the
 * SDK, so regenerating never changes behaviour.
 *
 * A method whose name JavaScript or the client gives a meaning to (`then`,
 * `close`, `toString`, …) gets a `_` suffix on the client (`then_`): see
 * src/method-names.ts for the rule. The wire name stays the proto's.
 *
 * Run it through `balanced-grpc generate`, or from your own buf.gen.yaml with
 * `opt: target=ts` beside ts-proto (see the README).
 */
import { posix } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { createEcmaScriptPlugin, type GeneratedFile, getComments, runNodeJs, type Schema } from "@bufbuild/protoplugin";
import { clientMethodNames, printClientDefinition } from "./client-method-names.js";

function printService(f: GeneratedFile, service: DescService): void {
  const name = service.name;
  const names = clientMethodNames(service);
  const definition = names.some(([key, client]) => key !== client)
    ? printClientDefinition(f, service, names)
    : `${name}Definition`;
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

function generateTs(schema: Schema): void {
  for (const file of schema.files) {
    if (file.services.length === 0) continue;
    const path = `${file.name}_sdk.ts`;
    const f = schema.generateFile(path);
    f.preamble(file);
    f.print(`import { type ClientOptions, createServiceClient, type SdkClient } from "balanced-grpc";`);
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
    generateTs,
  }),
);
