import { randomInt } from "node:crypto";
import { Command, InvalidArgumentError, Option } from "commander";
import { CLIENT_FAULTS } from "./call-plan.js";
import { SERVER_FAULTS } from "./fault-schedule.js";

/** What `npm run chaos` was asked for. */
export interface ChaosOptions {
  seed: number;
  seconds: number;
  clients: number;
  concurrency: number;
  backends: number;
  /** Faults left out: server fault kinds and client faults, by name. */
  without: string[];
}

/** Every fault a run can leave out. */
const FAULT_NAMES = [...Object.keys(SERVER_FAULTS), ...CLIENT_FAULTS];

const faultList = (text: string) => {
  const names = text.split(",").map((n) => n.trim());
  const unknown = names.filter((n) => !FAULT_NAMES.includes(n));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`unknown fault ${unknown.join(", ")}; expected some of ${FAULT_NAMES.join(", ")}`);
  return names;
};

const integer = (min: number, max: number) => (text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
  return n;
};

/** Reads the command line (`--seed`, `--seconds` or `--minutes`, `--clients`, `--concurrency`, `--backends`). */
export function parseOptions(argv: readonly string[]): ChaosOptions {
  const program = new Command("npm run chaos --")
    .description("Seeded random faults against real backend processes, with invariants checked all the time.")
    .addOption(
      new Option("--seed <n>", "seed of every random draw (default: a random one, printed)").argParser(
        integer(0, 2 ** 31 - 1),
      ),
    )
    .addOption(
      new Option("--seconds <n>", "how long to run (default: 60)")
        .argParser(integer(5, 24 * 3600))
        .conflicts("minutes"),
    )
    .addOption(new Option("--minutes <n>", "how long to run, in minutes").argParser(integer(1, 24 * 60)))
    .addOption(new Option("--clients <n>", "clients alive at a time").default(4).argParser(integer(1, 32)))
    .addOption(
      new Option("--concurrency <n>", "calls in flight, all clients together").default(24).argParser(integer(1, 200)),
    )
    .addOption(new Option("--backends <n>", "backend processes").default(3).argParser(integer(2, 8)))
    .addOption(
      new Option("--without <faults>", `faults to leave out, comma-separated: ${FAULT_NAMES.join(", ")}`)
        .default([], "none")
        .argParser(faultList),
    )
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
  program.parse(argv, { from: "user" });
  const o = program.opts<{
    without: string[];
    seed?: number;
    seconds?: number;
    minutes?: number;
    clients: number;
    concurrency: number;
    backends: number;
  }>();
  return {
    seed: o.seed ?? randomInt(0, 2 ** 31 - 1),
    seconds: o.seconds ?? (o.minutes === undefined ? 60 : o.minutes * 60),
    clients: o.clients,
    concurrency: o.concurrency,
    backends: o.backends,
    without: o.without,
  };
}
