import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Real servers on loopback; a loaded 2-core CI machine needs slack.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
