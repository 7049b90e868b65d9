import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

/**
 * Longest files first, whatever their project (vitest's own order runs
 * projects one after another, by name): the files that take longest start
 * first, and the short ones fill the workers around them. A fresh clone has
 * no timings cached, so the known slow files are named here (seconds on an
 * idle 2-core machine); the rest go by size.
 */
const SLOW_FILES: Record<string, number> = {
  "test/package/consumer.test.ts": 77,
  "test/e2e/demo.test.ts": 72,
  "test/e2e/failures.test.ts": 41,
  "test/e2e/codegen-hardening.test.ts": 35,
  "test/e2e/l7-proxy.test.ts": 25,
  "test/e2e/client-max-age.test.ts": 24,
  "test/e2e/cli.test.ts": 23,
  "test/e2e/codegen.test.ts": 21,
  "test/e2e/outlier-detection.test.ts": 20,
  "test/dns/slow-backend.test.ts": 20,
  "test/integration/health-checking.test.ts": 19,
  "test/integration/rotation.test.ts": 18,
  "test/dns/discovery.test.ts": 10,
  "test/integration/close.test.ts": 10,
  "test/integration/transport-http2.test.ts": 10,
};
/** The command line's and the generator's end-to-end tests (see the "commands" project). */
const COMMAND_FILES = [
  "test/e2e/codegen.test.ts",
  "test/e2e/codegen-hardening.test.ts",
  "test/e2e/examples.test.ts",
  "test/e2e/cli.test.ts",
];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const weight = (file: TestSpecification) => {
      const path = file.moduleId.slice(file.project.config.root.length + 1);
      return SLOW_FILES[path] ?? statSync(file.moduleId).size / 1e6;
    };
    return [...files].sort(
      (a, b) => a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder || weight(b) - weight(a),
    );
  }
}

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
    // Three files at a time on 2 cores: most wait on servers, processes or
    // npm. The projects that load the machine (processes under load) run
    // after the quick ones, in group 1; the package test runs beside the
    // quick ones. Every test holds with a core busy besides.
    maxWorkers: 3,
    sequence: { sequencer: SlowFirst },
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
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          exclude: COMMAND_FILES,
          sequence: { groupOrder: 1 },
        },
      },
      // The command and the generator as processes (buf, ts-proto, tsc, a tiny
      // bench): no servers held under load, so they fill the workers beside the
      // package test.
      { extends: true, test: { name: "commands", include: COMMAND_FILES } },
      // The packed package in a fresh project, installed from the registry (npm's cache). The
      // longest file, mostly waiting on npm: it starts first, beside the quick ones.
      {
        extends: true,
        test: {
          name: "package",
          include: ["test/package/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
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
