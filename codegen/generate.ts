import { execFile } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkFolders, checkTargets } from "./check-folders.js";
import { GenerateError } from "./generate-error.js";
import { inputsHash } from "./inputs-hash.js";
import { listFiles } from "./list-files.js";
import { MANIFEST_FILE, type Manifest, manifestText, readManifest, sha256 } from "./manifest.js";
import { packageVersion } from "./package-version.js";

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** The project: where `@bufbuild/buf` and `ts-proto` are installed, and what `--out` must stay inside. */
  cwd: string;
  /** Folder of `.proto` files, relative to `cwd`. */
  proto: string;
  /** Folder the TypeScript goes to, relative to `cwd`. */
  out: string;
  /** Run buf even when the inputs and files are as the manifest records. */
  force?: boolean;
}

/** What {@link generate} wrote. */
export interface GenerateResult {
  /** Files written or rewritten, relative to `out`. */
  written: string[];
  /** Files already up to date. */
  unchanged: string[];
  /** Files the last run generated (per the manifest, content unchanged) that no proto produces any more, removed. */
  removed: string[];
  /** Files the last run generated that no proto produces any more but that were edited since: left in place. */
  kept: string[];
  /** `create<Service>Client` factories generated. */
  factories: string[];
  /** The inputs and files were as the manifest records: buf was not run. */
  upToDate: boolean;
}

export { GenerateError };

/** ts-proto's options: messages and nice-grpc service definitions for ESM (NodeNext), Date timestamps. */
export const TS_PROTO_OPTIONS = [
  "outputServices=nice-grpc",
  "outputServices=generic-definitions",
  "useExactTypes=false",
  "importSuffix=.js",
  "esModuleInterop=true",
];

/**
 * ts-proto's output imports two runtime packages; a project that installed
 * only balanced-grpc cannot import them (npm's linked layout, pnpm), so they
 * are reached through balanced-grpc, which depends on both.
 */
const IMPORT_REWRITES: [from: string, to: string][] = [
  ['from "@bufbuild/protobuf/wire"', 'from "balanced-grpc/wire"'],
  ['from "nice-grpc-common"', 'from "balanced-grpc"'],
];

/** protoc-gen-balanced-grpc's options. */
const PLUGIN_OPTIONS = ["target=ts"];

/**
 * `balanced-grpc generate`: compiles every `.proto` under `proto` with buf,
 * ts-proto and protoc-gen-balanced-grpc into `out`, with the options this SDK
 * expects. Writes nothing outside `out` (decided on real paths), and nothing
 * at all if buf fails; rewrites only files whose content changed; removes
 * only files the manifest proves it wrote, unchanged since; skips buf when
 * nothing changed since the run that wrote the manifest.
 */
export async function generate(options: GenerateOptions): Promise<GenerateResult> {
  const { root, protoDir, outDir } = await checkFolders(options.cwd, options.proto, options.out);
  const buf = installed(root, "@bufbuild/buf");
  const tsProto = installed(root, "ts-proto");
  const inputs = await inputsHash(root, protoDir, [
    `balanced-grpc ${packageVersion()}`,
    `ts-proto ${tsProto.version}`,
    `buf ${buf.version}`,
    ...TS_PROTO_OPTIONS,
    ...PLUGIN_OPTIONS,
    ...IMPORT_REWRITES.flat(),
  ]);
  const previous = await readManifest(outDir);
  if (!options.force && previous) {
    const upToDate = await unchangedSince(outDir, previous.manifest, previous.text, inputs);
    if (upToDate) return upToDate;
  }
  const scratch = await mkdtemp(join(tmpdir(), "balanced-grpc-generate-"));
  try {
    // `strategy: all`: each plugin starts once for all files, not once per
    // folder (500 protos in 50 packages: ~50 s of plugin starts otherwise).
    const template = {
      version: "v2",
      plugins: [
        {
          local: [process.execPath, tsProto.file("protoc-gen-ts_proto")],
          out: scratch,
          opt: TS_PROTO_OPTIONS,
          strategy: "all",
        },
        { local: pluginCommand(), out: scratch, opt: PLUGIN_OPTIONS, strategy: "all" },
      ],
    };
    await run(
      process.execPath,
      [buf.file("bin/buf"), "generate", protoDir, "--template", JSON.stringify(template)],
      root,
    );
    const files = await listFiles(scratch);
    const produced = new Set(files);
    const stale = Object.keys(previous?.manifest.files ?? {}).filter((file) => !produced.has(file));
    await checkTargets(outDir, [...files, ...stale, MANIFEST_FILE]);
    const result: GenerateResult = {
      written: [],
      unchanged: [],
      removed: [],
      kept: [],
      factories: [],
      upToDate: false,
    };
    const manifest: Manifest = { inputs, files: {} };
    for (const file of files) {
      let text = await readFile(join(scratch, file), "utf8");
      for (const [from, to] of IMPORT_REWRITES) text = text.replaceAll(from, to);
      result.factories.push(...factoriesIn(text));
      manifest.files[file] = sha256(text);
      const target = join(outDir, file);
      const current = await readFile(target, "utf8").catch(() => undefined);
      if (current === text) {
        result.unchanged.push(file);
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, text);
      result.written.push(file);
    }
    await removeStale(outDir, stale, previous?.manifest, result);
    const text = manifestText(manifest);
    if (previous?.text !== text) await writeFile(join(outDir, MANIFEST_FILE), text);
    return result;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The result of a run that would change nothing, or `undefined`: the inputs
 * hash is the manifest's and every file it lists is there, as written.
 */
async function unchangedSince(
  outDir: string,
  manifest: Manifest,
  text: string,
  inputs: string,
): Promise<GenerateResult | undefined> {
  if (manifest.inputs !== inputs || manifestText(manifest) !== text) return undefined;
  const result: GenerateResult = { written: [], unchanged: [], removed: [], kept: [], factories: [], upToDate: true };
  for (const [file, hash] of Object.entries(manifest.files)) {
    const content = await readFile(join(outDir, file), "utf8").catch(() => undefined);
    if (content === undefined || sha256(content) !== hash) return undefined;
    result.unchanged.push(file);
    result.factories.push(...factoriesIn(content));
  }
  return result;
}

function factoriesIn(text: string): string[] {
  return [...text.matchAll(/^export function (create\w+Client)\(/gm)].map((m) => m[1]!);
}

/** A package installed in the project (its version and files), or a message saying what to install. */
function installed(root: string, name: string): { version: string; file(path: string): string } {
  try {
    const path = createRequire(join(root, "package.json")).resolve(`${name}/package.json`);
    const { version } = createRequire(import.meta.url)(path) as { version: string };
    return { version, file: (file) => join(dirname(path), file) };
  } catch {
    throw new GenerateError(
      `${name} is not installed in ${root}: balanced-grpc generate runs the project's own buf and ts-proto.\n` +
        "  npm install --save-dev @bufbuild/buf ts-proto",
    );
  }
}

/** How buf runs protoc-gen-balanced-grpc: the file beside this one, compiled or (in the repository) through tsx. */
function pluginCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  const plugin = join(dirname(here), `protoc-gen-balanced-grpc${extname(here)}`);
  return extname(here) === ".ts" ? [process.execPath, "--import", "tsx", plugin] : [process.execPath, plugin];
}

/** Our plugin's own refusals (a method name it cannot generate), as buf relays them. */
const PLUGIN_ERROR = /^protoc-gen-balanced-grpc: (.*)$/m;

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((done, fail) => {
    execFile(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) return done();
      const ours = PLUGIN_ERROR.exec(stderr)?.[1];
      if (ours) return fail(new GenerateError(ours));
      fail(new GenerateError(`buf could not compile the protos:\n${(stderr || error.message).trim()}`));
    });
  });
}

/**
 * Removes the files the last run generated that this one did not, if the
 * manifest proves it: listed, a plain file, content hash as listed. A file
 * edited since is kept (and reported); then folders left empty go.
 */
async function removeStale(
  outDir: string,
  stale: readonly string[],
  manifest: Manifest | undefined,
  result: GenerateResult,
): Promise<void> {
  for (const file of stale) {
    const path = join(outDir, file);
    const isFile = await lstat(path).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!isFile) continue;
    if (sha256(await readFile(path)) !== manifest?.files[file]) {
      result.kept.push(file);
      continue;
    }
    await rm(path);
    result.removed.push(file);
    for (let dir = dirname(path); dir !== outDir && dir.startsWith(outDir); dir = dirname(dir)) {
      if ((await readdir(dir)).length > 0) break;
      await rmdir(dir);
    }
  }
}
