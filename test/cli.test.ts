import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const cli = join(import.meta.dirname, "../cli/main.ts");

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", cli, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe("balanced-grpc", () => {
  test.each([
    [["bogus"], /unknown command 'bogus'/],
    [["serve", "--port", "notaport"], /--port <port>.*expected an integer from 0 to 65535/s],
    [["serve", "--max-connection-age", "soon"], /expected a duration/],
    [["call", "--target", "127.0.0.1:1", "--strategy", "fast"], /Allowed choices are pickFirst, roundRobin, pool/],
    [["call", "--target", "127.0.0.1:99999"], /invalid option "target".*from 1 to 65535/],
    [["call", "--target", "127.0.0.1:1", "--strategy", "pool"], /invalid option "size"/],
    [["call"], /required option '--target <target>'/],
    [["demo", "--backends", "20"], /expected an integer from 2 to 8/],
    [["bench", "--concurrency", "1,x"], /expected an integer/],
  ])("%j: a clear message and exit code 2", async (args, message) => {
    const { code, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  test("every command has help", async () => {
    for (const command of ["demo", "serve", "call", "bench"]) {
      const { code, stdout } = await runCli([command, "--help"]);
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: balanced-grpc ${command}`);
    }
  });

  test("serve + call: replies name the backend and connection", async () => {
    const { spawnBackend } = await import("../harness/processes.js");
    const { freePort } = await import("../harness/backends.js");
    const backend = await spawnBackend("127.0.0.1", await freePort());
    try {
      const { code, stdout } = await runCli([
        "call",
        "--target",
        backend.address,
        "--strategy",
        "pool",
        "--size",
        "2",
        "--count",
        "4",
        "--name",
        "cli",
      ]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/#1 "Hello cli" {2}backend=127\.0\.0\.1 {2}connection=[01]\/2/);
      expect(stdout.match(/"Hello cli"/g)).toHaveLength(4);
    } finally {
      await backend.kill();
    }
  });

  test("bench prints its tables and one JSON line (a tiny run; speed is not asserted)", async () => {
    const { code, stdout } = await runCli([
      "bench",
      "--rounds",
      "1",
      "--duration",
      "200ms",
      "--concurrency",
      "1",
      "--pool-sizes",
      "1,2",
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      unary: unknown[];
      streaming: unknown[];
      rss: { connectedMembers: number }[];
      targets: unknown[];
    };
    expect(result.unary).toHaveLength(10);
    expect(result.streaming).toHaveLength(3);
    expect(result.rss.map((r) => r.connectedMembers)).toEqual([1, 2]);
    expect(result.targets).toHaveLength(4);
    expect(stdout).toContain("vs nice-grpc");
  });
});
