import { join } from "node:path";
import { expect, test } from "vitest";
import { run } from "../helpers/exec.js";

const root = join(import.meta.dirname, "../..");

test("the middleware example of docs/calls.md runs", async () => {
  const output = await run(process.execPath, ["--import", "tsx", "examples/compose-middleware.ts"], root);
  expect(output).toContain("Hello middleware");
  expect(output).toMatch(/\/helloworld.Greeter\/SayHello ok in/);
  expect(output).toContain("'/helloworld.Greeter/SayHello': 1");
});
