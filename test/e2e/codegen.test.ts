import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { service, startServer } from "balanced-grpc";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GenerateError, generate } from "../../codegen/generate.js";
import { run } from "../helpers/exec.js";

const root = resolve(import.meta.dirname, "../..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
let project: string;

// A project inside the repository (so buf and ts-proto resolve from its
// node_modules) with a user's proto, compiled by `balanced-grpc generate`.
// The packed package in a fresh project is the consumer test's job.
beforeAll(async () => {
  await mkdir(join(root, "test/.tmp"), { recursive: true });
  project = await mkdtemp(join(root, "test/.tmp/codegen-"));
  await cp(join(import.meta.dirname, "../fixtures/acme"), join(project, "proto/acme"), { recursive: true });
  await writeFile(join(project, "package.json"), JSON.stringify({ type: "module" }));
  await generate({ cwd: project, proto: "proto", out: "generated" });
});

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

test("a new proto gets create<Service>Client that imports balanced-grpc and type-checks", async () => {
  const sdk = await readFile(join(project, "generated/acme/inventory/v1/inventory_sdk.ts"), "utf8");
  expect(sdk).toContain('from "balanced-grpc"');
  const messages = await readFile(join(project, "generated/acme/inventory/v1/inventory.ts"), "utf8");
  expect(messages).toContain('from "balanced-grpc/wire"');
  expect(messages).not.toMatch(/from "(@bufbuild\/protobuf|nice-grpc-common)/);
  await writeFile(
    join(project, "usage.ts"),
    `import { pool } from "balanced-grpc";
import { createInventoryClient, type InventorySdkClient } from "./generated/acme/inventory/v1/inventory_sdk.js";

export async function use(): Promise<number> {
  const client: InventorySdkClient = createInventoryClient({ target: "127.0.0.1:50051", strategy: pool(2) });
  const reply = await client.getStock({ sku: "A-1" });
  const quantity: number = reply.quantity;
  // @ts-expect-error Inventory has no sayHello
  client.sayHello;
  // @ts-expect-error sku is a string
  await client.getStock({ sku: 42 });
  client.close();
  return quantity;
}
`,
  );
  await writeFile(
    join(project, "tsconfig.json"),
    JSON.stringify({
      extends: join(root, "tsconfig.base.json"),
      compilerOptions: {
        noEmit: true,
        paths: { "balanced-grpc": [join(root, "src/index.ts")], "balanced-grpc/wire": [join(root, "src/wire.ts")] },
      },
      files: ["usage.ts"],
    }),
  );
  await run(bin("tsc"), ["-p", "tsconfig.json"], project);
});

test("the generated client completes a call against a server built from the same definition", async () => {
  const messages = await import(join(project, "generated/acme/inventory/v1/inventory.ts"));
  const sdk = await import(join(project, "generated/acme/inventory/v1/inventory_sdk.ts"));
  const server = await startServer({
    services: [
      service(messages.InventoryDefinition, {
        // The module was imported by a computed path, so its types are not known here.
        getStock: async (request: unknown) => ({ sku: (request as { sku: string }).sku, quantity: 42 }),
      }),
    ],
  });
  const client = sdk.createInventoryClient({ target: server.address });
  try {
    expect(await client.getStock({ sku: "A-1" })).toEqual({ sku: "A-1", quantity: 42 });
    expect(messages.InventoryDefinition.methods.getStock.options.idempotencyLevel).toBe("NO_SIDE_EFFECTS");
  } finally {
    client.close();
    await server.shutdown();
  }
});

test("generating again rewrites only what changed; a removed proto's files go, files of yours stay", async () => {
  await writeFile(join(project, "generated/notes.md"), "mine");
  await writeFile(join(project, "generated/helpers.ts"), "export const mine = 1;\n");
  await mkdir(join(project, "proto/acme/extra"), { recursive: true });
  await writeFile(
    join(project, "proto/acme/extra/extra.proto"),
    'syntax = "proto3";\npackage acme.extra;\nmessage X { int32 a = 1; }\n',
  );
  const added = await generate({ cwd: project, proto: "proto", out: "generated" });
  expect(added.written).toEqual(["acme/extra/extra.ts"]);
  expect(added.unchanged).toHaveLength(2); // the earlier files, byte for byte the same
  await rm(join(project, "proto/acme/extra"), { recursive: true });
  const removed = await generate({ cwd: project, proto: "proto", out: "generated" });
  expect(removed.removed).toEqual(["acme/extra/extra.ts"]);
  expect(await readdir(join(project, "generated"))).toEqual(expect.arrayContaining(["acme", "helpers.ts", "notes.md"]));
  expect(await readdir(join(project, "generated/acme"))).toEqual(["inventory"]);
});

describe("bad input is refused with a clear message, and nothing is written", () => {
  const cases: [string, (dir: string) => Promise<void>, { proto?: string; out?: string }, RegExp][] = [
    ["no proto files", async (dir) => void (await mkdir(join(dir, "proto"))), {}, /no \.proto files/],
    ["no proto folder", async () => {}, {}, /no such folder/],
    [
      "a syntax error: buf's message, with file and line",
      async (dir) => {
        await mkdir(join(dir, "proto"));
        await writeFile(
          join(dir, "proto/broken.proto"),
          'syntax = "proto3";\nmessage Broken {\n  string name = ;\n}\n',
        );
      },
      {},
      /buf could not compile the protos:[\s\S]*broken\.proto:3:/,
    ],
    ["--out outside the project", withProto, { out: "../elsewhere" }, /--out \.\.\/elsewhere: outside the project/],
    ["--out the project itself", withProto, { out: "." }, /that is the project folder/],
    ["--out the proto folder", withProto, { out: "proto" }, /overlaps the proto folder/],
  ];
  test.each(cases)("%s", async (_name, prepare, folders, message) => {
    const dir = await mkdtemp(join(root, "test/.tmp/bad-"));
    try {
      await writeFile(join(dir, "package.json"), "{}");
      await prepare(dir);
      const before = await readdir(dir, { recursive: true });
      const error = await generate({
        cwd: dir,
        proto: folders.proto ?? "proto",
        out: folders.out ?? "generated",
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GenerateError);
      expect((error as Error).message).toMatch(message);
      expect(await readdir(dir, { recursive: true })).toEqual(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("buf or ts-proto not installed: the message names the package and the install command", async () => {
    const dir = await mkdtemp(join(tmpdir(), "balanced-grpc-no-deps-"));
    try {
      await writeFile(join(dir, "package.json"), "{}");
      await withProto(dir);
      const error = await generate({ cwd: dir, proto: "proto", out: "generated" }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(
        /@bufbuild\/buf is not installed[\s\S]*npm install --save-dev @bufbuild\/buf ts-proto/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function withProto(dir: string): Promise<void> {
  await mkdir(join(dir, "proto"));
  await writeFile(join(dir, "proto/ok.proto"), 'syntax = "proto3";\npackage ok.v1;\nmessage Ok { string a = 1; }\n');
}
