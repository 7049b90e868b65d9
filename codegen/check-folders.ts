/**
 * Where `generate` reads and writes, decided on real paths (symbolic links
 * followed): `--out` must really be inside the project, and no link inside
 * `--out` may carry a write or a removal out of it.
 */
import { lstat, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { GenerateError } from "./generate-error.js";
import { listFiles } from "./list-files.js";
import { isInside, realPathOf, shown } from "./real-paths.js";

export interface Folders {
  /** The project, real path. */
  root: string;
  /** The proto folder, real path. */
  protoDir: string;
  /** `--out`, real path (its missing part as it will be created). */
  outDir: string;
}

/** Checks `--proto` and `--out` against the project `cwd`; returns their real paths. */
export async function checkFolders(cwd: string, proto: string, out: string): Promise<Folders> {
  const given = resolve(cwd, proto);
  const isDir = await stat(given).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new GenerateError(`--proto ${shown(proto)}: no such folder (the .proto files go there)`);
  const root = await realPathOf(resolve(cwd));
  const protoDir = await realPathOf(given);
  if (!(await listFiles(protoDir)).some((f) => f.endsWith(".proto"))) {
    throw new GenerateError(`--proto ${shown(proto)}: no .proto files in it`);
  }
  const outDir = await realPathOf(resolve(root, out));
  if (outDir === root) {
    throw new GenerateError(`--out ${shown(out)}: that is the project folder; give generated code a folder of its own`);
  }
  if (!isInside(outDir, root)) {
    // Said apart, because the user's path looks inside: only the link is not.
    if (isInside(resolve(root, out), root)) {
      throw new GenerateError(
        `--out ${shown(out)}: is or passes through a symbolic link to ${shown(outDir)}, outside the project (${shown(root)}); ` +
          "give a real folder inside the project",
      );
    }
    throw new GenerateError(`--out ${shown(out)}: outside the project (${shown(root)})`);
  }
  if (isInside(outDir, protoDir) || isInside(protoDir, outDir)) {
    throw new GenerateError(`--out ${shown(out)}: overlaps the proto folder ${shown(proto)}`);
  }
  const outStat = await stat(outDir).catch(() => undefined);
  if (outStat && !outStat.isDirectory()) throw new GenerateError(`--out ${shown(out)}: not a folder`);
  return { root, protoDir, outDir };
}

/**
 * Refuses, before anything is written, a file to write or remove whose
 * folder really is outside `outDir` (a linked subfolder) or that is itself a
 * symbolic link: writing would follow it.
 */
export async function checkTargets(outDir: string, files: readonly string[]): Promise<void> {
  const folders = new Map<string, Promise<string>>();
  for (const file of files) {
    const folder = dirname(join(outDir, file));
    if (!folders.has(folder)) folders.set(folder, realPathOf(folder));
  }
  for (const [folder, real] of folders) {
    if (!isInside(await real, outDir)) {
      throw new GenerateError(
        `--out: ${shown(folder)} is, or is inside, a symbolic link to a folder outside --out ` +
          `(${shown(await real)}); nothing was written`,
      );
    }
  }
  for (const file of files) {
    const link = await lstat(join(outDir, file)).then(
      (s) => s.isSymbolicLink(),
      () => false,
    );
    if (link) throw new GenerateError(`--out: ${shown(file)} is a symbolic link; remove it (nothing was written)`);
  }
}
