import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.js";

/**
 * The suite on the SDK's HTTP/2 transport (`transport: "http2"` as the
 * default): `npx vitest run -c vitest.http2.config.ts [files]`. The same
 * tests, parametrized by the default they run with, not copied. The
 * documented-defaults check fails here by design (it reads the default).
 */
export default mergeConfig(base, defineConfig({ test: { setupFiles: ["test/helpers/http2-default-transport.ts"] } }));
