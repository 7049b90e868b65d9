import { createRequire } from "node:module";

/**
 * balanced-grpc's own version: from dist/codegen/ when installed, from
 * codegen/ in the repository (so two places to look for package.json).
 */
export function packageVersion(): string | undefined {
  const require = createRequire(import.meta.url);
  for (const path of ["../../package.json", "../package.json"]) {
    try {
      const manifest = require(path) as { name?: string; version?: string };
      if (manifest.name === "balanced-grpc") return manifest.version;
    } catch {
      // not this layout: try the other
    }
  }
  return undefined;
}
