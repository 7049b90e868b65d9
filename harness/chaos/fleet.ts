import { type Backends, spawnBackends } from "../backend-group.js";
import type { BackendProcess } from "../backend-process.js";
import { CALL_ID_HEADER } from "./calls.js";
import { now, sleep } from "./clock.js";
import type { Fault, ServerFaultKind } from "./fault-schedule.js";
import { BackendTimeline } from "./timeline.js";

/** What the fleet did of each fault kind. */
export interface FaultTally {
  done: number;
  /** Not applied: every other backend was down when it was due (the plan expected one up). */
  skipped: number;
  /** Applying it failed (a restart that did not come up, …): a soak problem, reported, not an invariant. */
  errors: number;
}

/**
 * The soak's servers: `count` backend processes (Greeter + RouteGuide, from
 * harness/backend-main.ts) on 127.0.0.1, .2, … one port, as behind a DNS
 * name. It applies faults one at a time per backend and records when each
 * backend was really down, and hands on every call id the backends report.
 */
export class Fleet {
  readonly timeline: BackendTimeline;
  readonly tally = {} as Record<ServerFaultKind, FaultTally>;
  readonly errors: string[] = [];
  /** How long each restart took until the new process listened, ms. */
  readonly restartMs: number[] = [];
  private readonly locks: Promise<void>[];

  private constructor(private readonly group: Backends<BackendProcess>) {
    this.timeline = new BackendTimeline(group.list.length);
    this.locks = group.list.map(() => Promise.resolve());
  }

  static async start(count: number, onCallId: (id: string, method: string, backend: string) => void): Promise<Fleet> {
    // echoChat: RouteChat answers each note once (the reference keeps every note per point, which grows for ever).
    const group = await spawnBackends(count, { echoChat: true, callIdHeader: CALL_ID_HEADER }, { onCallId });
    return new Fleet(group);
  }

  get target(): string {
    return this.group.target;
  }

  get names(): string[] {
    return this.group.list.map((b) => b.name);
  }

  /** Applies `fault` once the backends it needs are free of earlier faults; resolves when it is undone. */
  apply(fault: Fault): Promise<void> {
    const indexes = fault.backend === "all" ? this.group.list.map((_, i) => i) : [fault.backend];
    const run = Promise.all(indexes.map((i) => this.locks[i]))
      .then(() => this.run(fault))
      .then(
        (applied) => {
          const tally = this.tallied(fault.kind);
          if (applied) tally.done++;
          else tally.skipped++;
        },
        (error: unknown) => {
          this.tallied(fault.kind).errors++;
          this.errors.push(`${fault.kind} on backend ${String(fault.backend)}: ${String(error)}`);
        },
      );
    for (const i of indexes) this.locks[i] = run;
    return run;
  }

  /** Waits for every fault under way, then stops every backend. */
  async stop(): Promise<void> {
    await Promise.all(this.locks);
    await Promise.all(
      this.group.list.map(async (b) => {
        b.signal("SIGCONT");
        await b.stop();
      }),
    );
  }

  /** Applies a fault and undoes it; false if it was skipped. */
  private async run(fault: Fault): Promise<boolean> {
    const { timeline } = this;
    const list = this.group.list;
    const i = fault.backend === "all" ? -1 : fault.backend;
    const backend = list[i]!;
    // The plan keeps a backend up through every fault but an outage; restarts
    // slower than planned can upset that: never take the last backend down.
    const others = list.map((_, j) => j).filter((j) => j !== i);
    if (i >= 0 && fault.kind !== "stall" && others.every((j) => timeline.isDown(j))) return false;
    switch (fault.kind) {
      case "kill":
        timeline.down(i, "killed", now());
        await backend.kill();
        await sleep(fault.durationMs);
        await this.restart(i, fault.profile ?? {});
        return true;
      case "outage":
        for (const [j] of list.entries()) timeline.down(j, "killed", now());
        await Promise.all(list.map((b) => b.kill()));
        await sleep(fault.durationMs);
        await Promise.all(list.map((_, j) => this.restart(j, fault.profile ?? {})));
        return true;
      case "goaway":
        timeline.down(i, "killed", now());
        await this.restart(i, fault.profile ?? {});
        await sleep(fault.durationMs);
        timeline.down(i, "killed", now());
        await this.restart(i, fault.after ?? {});
        return true;
      case "stall":
        await backend.set({ stallEvery: fault.stallEvery ?? 10, stallMs: fault.stallMs ?? 500 });
        await sleep(fault.durationMs);
        await backend.set({ stallEvery: 0 });
        return true;
      case "failBurst":
        timeline.down(i, "failing", now());
        await backend.set({ failEvery: 1 });
        await sleep(fault.durationMs);
        await backend.set({ failEvery: 0 });
        timeline.up(i, "failing", now());
        return true;
      case "hang":
        timeline.down(i, "stopped", now());
        backend.signal("SIGSTOP");
        await sleep(fault.durationMs);
        backend.signal("SIGCONT");
        timeline.up(i, "stopped", now());
        return true;
    }
  }

  /** Restarts backend `i` (SIGKILL, then a new process on its address); up once it listens. */
  private async restart(i: number, profile: object): Promise<void> {
    const started = now();
    await this.group.list[i]!.restart(profile);
    this.restartMs.push(now() - started);
    this.timeline.up(i, "killed", now());
  }

  private tallied(kind: ServerFaultKind): FaultTally {
    this.tally[kind] ??= { done: 0, skipped: 0, errors: 0 };
    return this.tally[kind];
  }
}
