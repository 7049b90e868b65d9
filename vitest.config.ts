import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Real servers on loopback; a loaded 2-core CI machine needs slack.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: "main", include: ["test/**/*.test.ts"], exclude: ["test/dns/**"] },
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
        },
      },
    ],
  },
});
