import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

// The unit project (and the serverless option checks), for Stryker (`npm run mutate`): its vitest runner
// takes one config and runs every test it includes, and the other projects
// start servers and processes, far too slow to run once per mutant. A mutant
// that leaves a call unsettled fails its test after 3 s here (the whole unit
// run takes about one), rather than hitting Stryker's timeout, which costs a
// fresh vitest worker each time.
export default mergeConfig(
  { ...base, test: { ...base.test, projects: undefined } },
  defineConfig({
    test: {
      // And the option checks made through the public API: clients made and
      // closed, no server (they hold the error messages the resolvers write).
      include: ["test/unit/**/*.test.ts", "test/integration/options.test.ts"],
      testTimeout: 3_000,
      hookTimeout: 3_000,
    },
  }),
);
