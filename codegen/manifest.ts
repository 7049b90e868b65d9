/**
 * The manifest `generate` keeps in `--out`: the files the last run wrote, a
 * hash of each, and a hash of that run's inputs. It is the proof of
 * authorship: a file is removed only if the manifest lists it and its content
 * still has the listed hash, so a file another tool wrote (even one with
 * ts-proto's "Code generated" header) or one edited by hand is never removed.
 * Sorted and without timestamps, so committing it keeps `git status` clean.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isAbsolute, join, posix } from "node:path";

/** The manifest's file name, in `--out`. */
export const MANIFEST_FILE = ".balanced-grpc-manifest.json";

export interface Manifest {
  /** Hash of the inputs of the run that wrote it (see `inputsHash`). */
  inputs: string;
  /** Path relative to `--out` (with `/`) → SHA-256 of the content written. */
  files: Record<string, string>;
}

const ABOUT =
  "Written by balanced-grpc generate: the files it generated here and their hashes. " +
  "A later run removes only files listed here whose content is unchanged. Commit this file.";

export function sha256(content: string | Buffer): string {
  return createHash("sha256").update(content).digest("hex");
}

/** The manifest's text: byte-identical for the same inputs and files. */
export function manifestText(manifest: Manifest): string {
  const files = Object.fromEntries(Object.entries(manifest.files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ about: ABOUT, inputs: manifest.inputs, files }, null, 2)}\n`;
}

/**
 * The manifest in `outDir` and its text, or `undefined` when there is none or
 * it cannot be read (then nothing counts as ours and nothing is removed).
 * Entries that are not a plain relative path inside `--out` with a SHA-256 are
 * dropped: a hand-edited manifest cannot point a removal elsewhere.
 */
export async function readManifest(outDir: string): Promise<{ manifest: Manifest; text: string } | undefined> {
  const text = await readFile(join(outDir, MANIFEST_FILE), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { inputs, files } = (parsed ?? {}) as { inputs?: unknown; files?: unknown };
  if (typeof inputs !== "string" || typeof files !== "object" || files === null) return undefined;
  const valid = Object.entries(files).filter(
    ([path, hash]) => typeof hash === "string" && /^[0-9a-f]{64}$/.test(hash) && isPlainRelative(path),
  );
  return { manifest: { inputs, files: Object.fromEntries(valid) }, text };
}

function isPlainRelative(path: string): boolean {
  return (
    path !== "" &&
    path !== MANIFEST_FILE &&
    !isAbsolute(path) &&
    !path.includes("\\") &&
    !path.includes("\0") &&
    posix.normalize(path) === path &&
    !path.split("/").includes("..")
  );
}
