import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";

/** Every file under `dir`, relative to it, with `/` separators, sorted (none if `dir` is missing). */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}
