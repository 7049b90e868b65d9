// Setup file of vitest.http2.config.ts: the suite again with the SDK's HTTP/2
// transport as the default (a test that names its transport keeps it). The
// library never reads the environment for this; only this run changes the
// default, for every module that imports it.
import { vi } from "vitest";

vi.mock("../../src/defaults.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../src/defaults.js")>()),
  DEFAULT_TRANSPORT: "http2",
}));
