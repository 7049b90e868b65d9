import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { remark } from "remark";

/** A page of the docs: its path from the repository root, and its text. */
export interface DocPage {
  path: string;
  text: string;
}

/** README.md and every docs/*.md. The generated API reference (docs/api/, HTML) is not a page. */
export async function docPages(root: string): Promise<DocPage[]> {
  const guides = (await readdir(join(root, "docs")).catch(() => [] as string[]))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return Promise.all(
    ["README.md", ...guides].map(async (path) => ({ path, text: await readFile(join(root, path), "utf8") })),
  );
}

/** A fenced code block of a page. */
export interface CodeBlock {
  /** The page, from the repository root. */
  page: string;
  /** Line of the opening fence, from 1. */
  line: number;
  /** The fence's language (`ts`, `proto`, `sh`, …), "" without one. */
  language: string;
  /** Marked `<!-- fragment -->` on the line before: a piece of a program, not one. */
  fragment: boolean;
  /** The code, without the fences and the indentation of a list item, ending with a newline. */
  text: string;
}

/** The marker that says the next block is a fragment, not a program. */
export const FRAGMENT_MARKER = "<!-- fragment -->";

/** What remark's syntax tree (mdast) holds that matters here. */
interface MarkdownNode {
  type: string;
  lang?: string | null;
  value?: string;
  position?: { start: { line: number } };
  children?: MarkdownNode[];
}

/** Every fenced code block of a page, in order (inside lists and quotes too), as remark parses it. */
export function codeBlocks(page: DocPage): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const visit = (node: MarkdownNode) => {
    const children = node.children ?? [];
    children.forEach((child, i) => {
      if (child.type === "code") {
        const before = children[i - 1];
        blocks.push({
          page: page.path,
          line: child.position?.start.line ?? 0,
          language: child.lang ?? "",
          fragment: before?.type === "html" && before.value?.trim() === FRAGMENT_MARKER,
          text: `${child.value ?? ""}\n`,
        });
      }
      visit(child);
    });
  };
  visit(remark().parse(page.text) as MarkdownNode);
  return blocks;
}
