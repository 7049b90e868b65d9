import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { remark } from "remark";
import remarkValidateLinks from "remark-validate-links";
import { type Context, type Options as EngineOptions, engine } from "unified-engine";
import { beforeAll, describe, expect, test } from "vitest";
import { type CodeBlock, codeBlocks, type DocPage, docPages, FRAGMENT_MARKER } from "../helpers/docs.js";

// The docs (README.md and docs/*.md) as a reader follows them: every link
// between the pages lands, and every code block is of a kind a test handles
// (the package test type-checks and runs the programs: see
// docs/development.md, "Writing the docs").

const root = join(import.meta.dirname, "../..");
let pages: DocPage[];
let blocks: CodeBlock[];

beforeAll(async () => {
  pages = await docPages(root);
  blocks = pages.flatMap(codeBlocks);
});

/** The messages remark-validate-links leaves on the pages, checked together so links across pages are followed. */
async function linkProblems(paths: string[]): Promise<string[]> {
  const files = await new Promise<Context["files"]>((resolve, reject) =>
    engine(
      {
        processor: remark(),
        files: paths,
        cwd: root,
        // Local links only: no Git host to check full URLs against, and nothing fetched.
        // (The plugin's options are typed; the engine's list takes any plugin's.)
        plugins: [[remarkValidateLinks, { repository: false, root }]] as unknown as EngineOptions["plugins"],
        detectConfig: false,
        detectIgnore: false,
        output: false,
        out: false,
        silent: true,
      },
      (error, _code, context) => (error ? reject(error) : resolve(context?.files ?? [])),
    ),
  );
  return files.flatMap((file) =>
    file.messages.map((message) => `${file.path}:${message.line ?? "?"} ${message.reason}`),
  );
}

describe("links between the pages", () => {
  test("every relative link and #anchor in README.md and docs/*.md resolves (anchors as GitHub slugs them)", async () => {
    expect(pages.length).toBeGreaterThan(5);
    expect(await linkProblems(pages.map((page) => page.path))).toEqual([]);
  });

  test("a broken file link and a broken anchor are reported", async () => {
    // The check itself: a page with one of each, beside the real ones.
    await mkdir(join(root, "test/.tmp"), { recursive: true });
    const dir = await mkdtemp(join(root, "test/.tmp/docs-links-"));
    try {
      const page = join(dir, "page.md");
      await writeFile(
        page,
        "# Page\n\n[fine](../../../README.md#use-it-in-your-project) [gone](missing.md) [no such heading](../../../README.md#nowhere) [here](#page)\n",
      );
      const problems = await linkProblems([page]);
      expect(problems).toHaveLength(2);
      expect(problems.join("\n")).toMatch(/missing\.md/);
      expect(problems.join("\n")).toMatch(/nowhere/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("code blocks", () => {
  // A block the package test cannot see would be a program nothing runs: so every block says what it is.
  const KINDS = ["ts", "proto", "yaml", "sh", "text"];

  test("every block is of a kind the tests know (ts programs, proto, yaml, sh, text)", () => {
    const unknown = blocks.filter((block) => !KINDS.includes(block.language));
    expect(unknown.map((block) => `${block.page}:${block.line} \`\`\`${block.language}`)).toEqual([]);
  });

  test("every fragment marker stands right before a code block", () => {
    for (const page of pages) {
      const markers = page.text.split("\n").filter((line) => line.trim() === FRAGMENT_MARKER).length;
      const fragments = codeBlocks(page).filter((block) => block.fragment).length;
      expect(fragments, `${page.path}: ${FRAGMENT_MARKER} not followed by a code block`).toBe(markers);
    }
  });

  test("every proto block that is not a fragment names its file on its first line", () => {
    const unnamed = blocks.filter(
      (block) => block.language === "proto" && !block.fragment && !/^\/\/ proto\/\S+\.proto\n/.test(block.text),
    );
    expect(unnamed.map((block) => `${block.page}:${block.line}`)).toEqual([]);
  });

  test("the docs hold programs to run and the protos they use", () => {
    const programs = blocks.filter((block) => block.language === "ts" && !block.fragment);
    expect(programs.length).toBeGreaterThan(5);
    expect(blocks.filter((block) => block.language === "proto" && !block.fragment).length).toBeGreaterThan(1);
  });
});
