import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { listFiles } from "./list-files.js";

/** buf's configuration beside the protos' folder: it decides which files make up the module. */
const BUF_CONFIG = ["buf.yaml", "buf.lock", "buf.work.yaml"];

/**
 * A hash of everything a run's output depends on: every file under the
 * proto folder (name and content), the project's buf configuration, and
 * `settings` (the tool versions and options). When it matches the manifest's
 * and the files are as written, the output would be the same: the run is
 * skipped without starting buf.
 */
export async function inputsHash(root: string, protoDir: string, settings: readonly string[]): Promise<string> {
  const hash = createHash("sha256");
  const field = (text: string | Buffer) => hash.update(`${text.length}:`).update(text);
  for (const setting of settings) field(setting);
  for (const file of await listFiles(protoDir)) {
    field(file);
    field(await readFile(join(protoDir, file)));
  }
  for (const name of BUF_CONFIG) {
    field(name);
    field((await readFile(join(root, name)).catch(() => undefined)) ?? "-");
  }
  return hash.digest("hex");
}
