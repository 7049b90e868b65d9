import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    // The harness, tests and examples import the library by its package name,
    // as users do; here it maps to the sources (tsconfig.json's "paths" does
    // the same for tsc and tsx).
    alias: [
      { find: /^balanced-grpc$/, replacement: src("index.ts") },
      { find: /^balanced-grpc\/wire$/, replacement: src("wire.ts") },
    ],
  },
  test: {
    // Real servers on loopback; a loaded 2-core CI machine needs slack.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two files at a time: most wait on servers, processes or npm. The
    // projects that load the machine (processes under load) run after the
    // quick ones, in group 1, beside the package test, which mostly waits on npm.
    maxWorkers: 2,
    projects: [
      // One mechanism at a time, against fakes: seconds in all.
      { extends: true, test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 10_000 } },
      // Compile-time checks of the public types, run by vitest's type checker.
      {
        extends: true,
        test: {
          name: "types",
          include: [],
          typecheck: { enabled: true, only: true, include: ["test/types/**/*.test-d.ts"], tsconfig: "tsconfig.json" },
        },
      },
      // Real servers in this process, on 127.0.0.1–3.
      { extends: true, test: { name: "integration", include: ["test/integration/**/*.test.ts"] } },
      // Real processes: backends that crash or hang, the command, the demo, codegen.
      { extends: true, test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], sequence: { groupOrder: 1 } } },
      // The packed package in a fresh project, installed from the registry (npm's cache).
      {
        extends: true,
        test: {
          name: "package",
          include: ["test/package/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // grpc-js uses a DNS server named in the target (dns://127.0.0.1:P/…)
        // only with this set before it loads, and then no longer resolves
        // localhost in that process: so these tests get workers of their own.
        // The SDK never sets it for users.
        extends: true,
        test: {
          name: "dns",
          include: ["test/dns/**/*.test.ts"],
          env: { GRPC_NODE_USE_ALTERNATIVE_RESOLVER: "true" },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
