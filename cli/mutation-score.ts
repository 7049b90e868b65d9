// The mutation score per folder from Stryker's JSON report (`npm run mutate`
// runs it after `stryker run`): a table on stderr, one JSON line on stdout.
// Score = (killed + timeout) / (killed + timeout + survived + no coverage), as
// Stryker counts it; mutants that do not compile or crash the run count in
// neither. `--survivors` also lists what the tests let through, per file line.
//
//   node --import tsx cli/mutation-score.ts [report.json] [--survivors]
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { table } from "../harness/table.js";

const FOLDERS = ["src/call", "src/channel", "src/balancer"] as const;

interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number } };
}
interface Report {
  files: Record<string, { mutants: Mutant[] }>;
}
interface Count {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  score: number | null;
}

const args = process.argv.slice(2);
const path = args.find((a) => !a.startsWith("--")) ?? "reports/mutation/mutation.json";
const report = JSON.parse(readFileSync(path, "utf8")) as Report;

const empty = (): Omit<Count, "score"> => ({ killed: 0, timeout: 0, survived: 0, noCoverage: 0 });
const counts = new Map<string, Omit<Count, "score">>([...FOLDERS, "total"].map((f) => [f, empty()]));
const survivors: string[] = [];

for (const [name, { mutants }] of Object.entries(report.files)) {
  const file = relative(process.cwd(), resolve(name)).split("\\").join("/");
  const folder = FOLDERS.find((f) => file.startsWith(`${f}/`));
  for (const m of mutants) {
    const key = ({ Killed: "killed", Timeout: "timeout", Survived: "survived", NoCoverage: "noCoverage" } as const)[
      m.status as "Killed" | "Timeout" | "Survived" | "NoCoverage"
    ];
    if (!key) continue;
    if (folder) counts.get(folder)![key]++;
    counts.get("total")![key]++;
    if (key === "survived" || key === "noCoverage") {
      const replacement = (m.replacement ?? "").replace(/\s+/g, " ").slice(0, 60);
      survivors.push(`${file}:${m.location.start.line}  ${m.mutatorName}  ${m.status}  ${replacement}`);
    }
  }
}

const scored: Record<string, Count> = {};
for (const [folder, c] of counts) {
  const detected = c.killed + c.timeout;
  const valid = detected + c.survived + c.noCoverage;
  scored[folder] = { ...c, score: valid === 0 ? null : Math.round((1000 * detected) / valid) / 10 };
}

const rows = Object.entries(scored).map(([folder, c]) => [
  folder,
  c.score === null ? "-" : `${c.score.toFixed(1)}%`,
  String(c.killed),
  String(c.timeout),
  String(c.survived),
  String(c.noCoverage),
]);
process.stderr.write(`${table(["folder", "score", "killed", "timeout", "survived", "no coverage"], rows)}\n`);
if (args.includes("--survivors")) process.stderr.write(`\n${survivors.sort(byFileLine).join("\n")}\n`);
process.stdout.write(`${JSON.stringify(scored)}\n`);

function byFileLine(a: string, b: string): number {
  const [fa, la] = a.split(/[: ]/);
  const [fb, lb] = b.split(/[: ]/);
  return fa === fb ? Number(la) - Number(lb) : fa! < fb! ? -1 : 1;
}
