import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, test } from "vitest";

// The repository's command (cli/main.ts), run as users of the repository run it.
const cli = join(import.meta.dirname, "../../cli/main.ts");

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", cli, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe("the command", () => {
  test.concurrent.each([
    [["bogus"], /unknown command 'bogus'/],
    [["serve", "--port", "notaport"], /--port <port>.*expected an integer from 0 to 65535/s],
    [["serve", "--max-connection-age", "soon"], /expected a duration/],
    [["call", "--target", "127.0.0.1:1", "--strategy", "fast"], /Allowed choices are pickFirst, roundRobin, pool/],
    [["call", "--target", "127.0.0.1:99999"], /invalid option "target".*from 1 to 65535/],
    // (`--strategy pool` without `--size` is the adaptive pool: valid since issue 19.)
    [["call", "--target", "127.0.0.1:1", "--size", "4"], /invalid option "size"/],
    [
      ["call", "--target", "127.0.0.1:1", "--max-connection-age", "10ms"],
      /invalid option "maxConnectionAge".*from 1000/,
    ],
    [["call"], /required option '--target <target>'/],
    [["demo", "--backends", "20"], /expected an integer from 2 to 8/],
    [["bench", "--concurrency", "1,x"], /expected an integer/],
    [["generate", "--proto", "no-such-folder"], /no such folder/],
  ])("%j: a clear message and exit code 2", async (args, message) => {
    const { code, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  test("every command has help", async () => {
    const commands = ["demo", "serve", "call", "bench", "generate"];
    const results = await Promise.all(commands.map((command) => runCli([command, "--help"])));
    for (const [i, { code, stdout }] of results.entries()) {
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: balanced-grpc ${commands[i]}`);
    }
  });

  test("serve + call: replies name the backend and connection; the connections are listed", async () => {
    const server: ChildProcess = spawn(process.execPath, ["--import", "tsx", cli, "serve", "--port", "0"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const [line] = (await once(createInterface({ input: server.stdout! }), "line")) as [string];
      const address = /^listening on (\S+)/.exec(line)![1]!;
      const { code, stdout } = await runCli([
        "call",
        ...["--target", address, "--strategy", "pool", "--size", "2", "--count", "4", "--name", "cli"],
      ]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/#1 "Hello cli" {2}backend=127\.0\.0\.1 {2}connection=[01]\/2 \(127\.0\.0\.1:\d+\)/);
      expect(stdout.match(/"Hello cli"/g)).toHaveLength(4);
      // client.$channel.stats(): two connections to the server, ready, serving.
      expect(stdout.match(new RegExp(`${address.replace(/\./g, "\\.")}\\s+READY\\s+serving`, "g"))).toHaveLength(2);
    } finally {
      server.kill("SIGTERM");
      await once(server, "exit");
    }
  });

  test("bench prints its tables and one JSON line (a tiny run; speed is not asserted)", async () => {
    const { code, stdout } = await runCli([
      ...["bench", "--quick", "--node-server", "--rounds", "1", "--duration", "200ms", "--concurrency", "1,100"],
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      server: string;
      unary: { library: string; top?: { callsPerSecond: number } }[];
      goals: { goal: string; met: boolean }[];
    };
    expect(result.server).toBe("Node (grpc-js)");
    // 3 strategies × 3 variants, pool(2) beside the adaptive pool(), and pool(2)
    // with health checking off (what the Watch stream costs).
    expect(result.unary.filter((r) => r.library === "SDK")).toHaveLength(12);
    expect(result.unary.filter((r) => r.library === "raw grpc-js")).toHaveLength(6);
    for (const row of result.unary) expect(row.top!.callsPerSecond).toBeGreaterThan(0);
    expect(result.goals.map((g) => g.goal)).toContain("pool(4) unary c=100 calls/s ≥ 1.10× raw");
    expect(stdout).toContain("calls/s vs raw");
  }, 120_000);
});
