import { realpath } from "node:fs/promises";
import { basename, dirname, join, sep } from "node:path";

/**
 * Where `path` really is: symbolic links followed for the part that exists,
 * the rest (folders `generate` will create) appended as given. Decisions
 * about what is inside the project are made on these paths, so a link cannot
 * lead a write outside it.
 */
export async function realPathOf(path: string): Promise<string> {
  const missing: string[] = [];
  for (let existing = path; ; existing = dirname(existing)) {
    try {
      return join(await realpath(existing), ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(existing) === existing) throw error;
      missing.push(basename(existing));
    }
  }
}

/** `dir` is `parent` or inside it (both real paths). */
export function isInside(dir: string, parent: string): boolean {
  return dir === parent || dir.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/** A path or value for a message: whole when short, else its start and end (the end names the file). */
export function shown(text: string, max = 100): string {
  if (text.length <= max) return text;
  const half = Math.floor((max - 1) / 2);
  return `${text.slice(0, half)}…${text.slice(-half)}`;
}
