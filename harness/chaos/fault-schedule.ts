import type { Prng } from "./prng.js";

/** The server faults the soak injects. */
export type ServerFaultKind = "kill" | "goaway" | "stall" | "failBurst" | "hang" | "outage";

/** What a fault does, for the report. */
export const SERVER_FAULTS: Readonly<Record<ServerFaultKind, string>> = {
  kill: "SIGKILL, restart on the same address with a new stream limit",
  goaway: "GOAWAY storm: restart with max connection age 100-300 ms (+ grace), later back",
  stall: "stalls: a share of SayHello calls take 0.2-1.5 s",
  failBurst: "failure burst: every SayHello fails UNAVAILABLE",
  hang: "SIGSTOP, SIGCONT after 0.3-2 s",
  outage: "every backend SIGKILLed, restarted after 0.3-1.5 s",
};

/** Server options a restart draws. */
export interface ServerProfile {
  maxConcurrentStreams?: number;
  maxConnectionAge?: number;
  maxConnectionAgeGrace?: number;
}

/** One planned fault. */
export interface Fault {
  /** When it starts, ms after the soak began. */
  at: number;
  kind: ServerFaultKind;
  /** The backend's index, or every backend (an outage). */
  backend: number | "all";
  /** How long it lasts: down time, storm, stall or burst length, ms. */
  durationMs: number;
  /** kill, outage: the options of the restart; goaway: of the storm. */
  profile?: ServerProfile;
  /** goaway: the options of the restart that ends the storm. */
  after?: ServerProfile;
  /** stall: every n-th SayHello stalls for `stallMs`. */
  stallEvery?: number;
  stallMs?: number;
}

/** Weights of the fault kinds: how often each is drawn. */
const WEIGHTS: Readonly<Record<ServerFaultKind, number>> = {
  kill: 20,
  goaway: 14,
  stall: 20,
  failBurst: 18,
  hang: 16,
  outage: 4,
};

/**
 * Grace after GOAWAY: longer than any call the backends hold (a stall is at
 * most 1.5 s, a hang 2 s), so the storm itself fails no call that a server
 * still works on (see the shared notes: calls outliving the grace fail INTERNAL).
 */
export const GOAWAY_GRACE_MS = 4_000;

/** A backend's stream limit after a restart: mostly none or large, sometimes tiny. */
export function drawStreamLimit(prng: Prng): number | undefined {
  return prng.pick([undefined, undefined, 1, 2, 5, 10, 100]);
}

/**
 * Time a restart takes besides the planned down time, for planning only: a
 * fresh Node process through tsx listens after 0.7 s on an idle machine, up
 * to about 2 s while the soak loads it.
 */
const RESTART_ALLOWANCE_MS = 2_000;

/** A planned span, ms after the start. */
export interface Span {
  from: number;
  to: number;
}

/** When a fault is planned to keep its backend from serving (a stall slows it down, no more). */
export function downSpans(fault: Fault): Span[] {
  const { at, durationMs } = fault;
  switch (fault.kind) {
    case "kill":
    case "outage":
      return [{ from: at, to: at + durationMs + RESTART_ALLOWANCE_MS }];
    case "goaway":
      return [
        { from: at, to: at + RESTART_ALLOWANCE_MS },
        { from: at + RESTART_ALLOWANCE_MS + durationMs, to: at + durationMs + 2 * RESTART_ALLOWANCE_MS },
      ];
    case "failBurst":
    case "hang":
      return [{ from: at, to: at + durationMs }];
    case "stall":
      return [];
  }
}

const overlaps = (a: Span, b: Span) => a.from < b.to && b.from < a.to;

/**
 * The soak's server faults for `durationMs`, drawn from `prng`: one every
 * 0.5-2.5 s, each on a backend that no planned fault holds at the time (an
 * outage needs them all), so faults on one backend never overlap and faults
 * on different backends may. Only an outage is planned to take every backend
 * down at once: another fault goes to a backend only if some other backend
 * stays up meanwhile (restarts that take longer than planned may still make
 * short total outages, which the timeline records). The same seed gives the
 * same plan.
 */
export function planFaults(prng: Prng, { durationMs, backends }: { durationMs: number; backends: number }): Fault[] {
  const busyUntil = new Array<number>(backends).fill(0);
  const down: Span[][] = Array.from({ length: backends }, () => []);
  const faults: Fault[] = [];
  for (let at = prng.between(500, 1_500); at < durationMs - 1_000; at += prng.between(500, 2_500)) {
    const kind = prng.weighted(WEIGHTS);
    const fault = draw(prng, kind, at);
    const free = busyUntil.flatMap((until, i) => (until <= at ? [i] : []));
    if (kind === "outage") {
      if (free.length < backends) continue;
      fault.backend = "all";
    } else {
      // Some other backend must stay up through each of this fault's down spans.
      const spans = downSpans(fault);
      const allowed = free.filter((i) =>
        spans.every((span) => down.some((list, j) => j !== i && !list.some((d) => overlaps(d, span)))),
      );
      if (allowed.length === 0) continue;
      fault.backend = prng.pick(allowed);
    }
    const spans = downSpans(fault);
    const until = Math.max(at + fault.durationMs, ...spans.map((d) => d.to));
    for (let i = 0; i < backends; i++) {
      if (fault.backend !== "all" && fault.backend !== i) continue;
      busyUntil[i] = until;
      down[i]!.push(...spans);
    }
    faults.push(fault);
  }
  return faults;
}

function draw(prng: Prng, kind: ServerFaultKind, at: number): Fault {
  const fault: Fault = { at, kind, backend: 0, durationMs: 0 };
  switch (kind) {
    case "kill":
    case "outage":
      fault.durationMs = prng.int(300, 1_500);
      fault.profile = withLimit({}, drawStreamLimit(prng));
      break;
    case "goaway":
      fault.durationMs = prng.int(2_000, 6_000);
      fault.profile = withLimit(
        { maxConnectionAge: prng.int(100, 300), maxConnectionAgeGrace: GOAWAY_GRACE_MS },
        drawStreamLimit(prng),
      );
      fault.after = withLimit({}, drawStreamLimit(prng));
      break;
    case "stall":
      fault.durationMs = prng.int(1_000, 5_000);
      fault.stallEvery = prng.int(3, 12);
      fault.stallMs = prng.int(200, 1_500);
      break;
    case "failBurst":
      fault.durationMs = prng.int(500, 3_000);
      break;
    case "hang":
      fault.durationMs = prng.int(300, 2_000);
      break;
  }
  return fault;
}

function withLimit(profile: ServerProfile, limit: number | undefined): ServerProfile {
  return limit === undefined ? profile : { ...profile, maxConcurrentStreams: limit };
}
