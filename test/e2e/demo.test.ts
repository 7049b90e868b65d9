import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect, test } from "vitest";

const root = join(import.meta.dirname, "../..");

test("the demo runs every scene and exits 0 only when all behaved", async () => {
  // Shorter than `npm start`'s defaults; the same scenes and checks.
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "cli/main.ts",
      "demo",
      "--json",
      "--duration",
      "1s",
      "--concurrency",
      "20",
      "--max-connection-age",
      "2s",
      "--client-max-age",
      "1s",
    ],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.once("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
    ok: boolean;
    spread: { strategy: string; path: string; connections: number; ok: boolean }[];
    scaleOut: { strategy: string; servedAfterMs?: number; ok: boolean }[];
    crash: { strategy: string; failures: number; ok: boolean }[];
    slow: { strategy: string; failures: number; ok: boolean }[];
    l4ScaleOut: { strategy: string; servedAfterMs?: number; failures: number; ok: boolean }[];
    failing: { client: string; failures: number; failingShare: number; ok: boolean }[];
    streamLimit: { strategy: string; failures: number; peakRunning: number; ok: boolean }[];
    health: {
      notServing: { host: string; during: Record<string, number>; failures: number; ok: boolean };
      rollingRestart: { failures: number; exits: { code: number | null }[]; ok: boolean };
    };
  };
  if (!result.ok) console.log(stderr);
  expect(result.spread).toHaveLength(6);
  expect(result.scaleOut).toHaveLength(3);
  expect(result.crash).toHaveLength(3);
  expect(result.spread.find((r) => r.strategy === "pool(4)" && r.path === "DNS")?.connections).toBe(12);
  expect(result.crash.every((r) => r.failures === 0)).toBe(true);
  expect(result.slow).toHaveLength(2);
  expect(result.l4ScaleOut.map((r) => r.servedAfterMs === undefined)).toEqual([true, false]);
  expect([...result.slow, ...result.l4ScaleOut].every((r) => r.failures === 0)).toBe(true);
  expect(result.failing).toHaveLength(2);
  expect(result.failing[1]!.failures).toBe(0);
  expect(result.failing[1]!.failingShare).toBeLessThanOrEqual(0.05);
  // One server allowing 100 streams, 300 long calls: pickFirst() runs 99 at a time (its health Watch holds the
  // 100th stream), pool() all 300.
  expect(result.streamLimit.map((r) => [r.failures, r.peakRunning])).toEqual([
    [0, 99],
    [0, 300],
  ]);
  // A backend NOT_SERVING gets no calls (< 1%), and a rolling restart by SIGTERM fails none.
  const { notServing, rollingRestart } = result.health;
  expect(notServing.failures).toBe(0);
  expect(notServing.during[notServing.host]).toBeLessThan(0.01);
  expect(rollingRestart.failures).toBe(0);
  expect(rollingRestart.exits.map((e) => e.code)).toEqual([0, 0, 0]);
  expect(result.ok).toBe(true);
  expect(code).toBe(0);
  expect(stderr).toContain("every scene behaved as the README says");
}, 150_000);
