import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { service, startServer } from "../src/index.js";
import { run } from "./helpers/exec.js";

const root = resolve(import.meta.dirname, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
let project: string;

// A temp copy of the project's generation setup (inside the repo, so module
// resolution finds node_modules), with the user's proto added to proto/.
beforeAll(async () => {
  await run(bin("tsc"), ["-p", "codegen/tsconfig.json"], root);
  await mkdir(join(root, "test/.tmp"), { recursive: true });
  project = await mkdtemp(join(root, "test/.tmp/codegen-"));
  for (const entry of ["proto", "buf.yaml", "buf.gen.yaml"])
    await cp(join(root, entry), join(project, entry), { recursive: true });
  for (const entry of ["node_modules", "codegen", "src", "harness"])
    await symlink(join(root, entry), join(project, entry));
  await cp(join(import.meta.dirname, "fixtures/acme"), join(project, "proto/acme"), { recursive: true });
  await run(bin("buf"), ["generate"], project);
});

afterAll(async () => {
  if (project) await rm(project, { recursive: true, force: true });
});

test("a new proto gets create<Service>Client that type-checks", async () => {
  await writeFile(
    join(project, "usage.ts"),
    `import { createInventoryClient, type InventorySdkClient } from "./generated/acme/inventory/v1/inventory_sdk.js";
import { pool } from "./src/index.js";

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
      compilerOptions: { noEmit: true },
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
