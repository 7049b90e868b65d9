import { monitorEventLoopDelay } from "node:perf_hooks";
import { type CallKind, type CallPlan, describePlan, drawCall, IDEMPOTENT, without } from "./call-plan.js";
import { runCall } from "./calls.js";
import { describeClient, drawClientConfig } from "./client-config.js";
import { ClientSlot } from "./client-slot.js";
import { now, sleep } from "./clock.js";
import type { InvariantName } from "./invariants.js";
import { describeError, type ExpectedReason, judgeCall } from "./judge-call.js";
import type { CallCounts, DriverConfig, DriverMessage, DriverSummary } from "./messages.js";
import { createPrng, type Prng } from "./prng.js";
import type { RssSample } from "./rss.js";
import { CallWatchdog } from "./watchdog.js";

/** Calls one worker makes at most: a bound besides the time. */
const MAX_CALLS_PER_WORKER = 200_000;
/** A worker stops waiting for a call this long after the longest a call may run, ms (the call is reported). */
const ABANDON_AFTER_MS = 5_000;

const emptyCounts = (): CallCounts => ({ calls: 0, ok: 0, expected: 0, notIdempotent: 0, unexplained: 0, broken: 0 });

/**
 * The client side of the soak, in its own process: `concurrency` workers make
 * calls of every kind on `clients` clients of every strategy; a closer closes
 * a random client every 0.5-3 s (with and without grace) and makes a new one;
 * a watchdog reports calls and close()s that do not settle in time. Every
 * draw comes from the seed's named streams.
 */
export class Driver {
  private readonly watchdog: CallWatchdog;
  private live: ClientSlot[] = [];
  private readonly closes = new Set<Promise<void>>();
  /** Clients whose close() has not resolved yet. */
  private readonly closing = new Set<ClientSlot>();
  /** When closeAll() began. */
  private finalCloseAt: number | undefined;
  private readonly configs: Prng;
  private made = 0;
  /** Every client made, in order. */
  private readonly history: ClientSlot[] = [];
  private stopping = false;
  private calls = 0;
  private abandoned = 0;
  /** Refused-stream replays of the clients closed so far. */
  private replays = 0;
  private readonly byKind = {} as Record<CallKind, CallCounts>;
  private readonly byStrategy: Record<string, CallCounts> = {};
  private readonly expected = {} as Record<ExpectedReason, number>;
  private readonly faults: Record<string, number> = {};
  private readonly checks: Partial<Record<InvariantName, number>> = {};
  private readonly rss: RssSample[] = [];
  private readonly warnings: string[] = [];
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  /** Client faults this run leaves out. */
  private readonly left: ReadonlySet<string>;

  constructor(
    private readonly config: DriverConfig,
    private readonly send: (message: DriverMessage) => void,
  ) {
    this.watchdog = new CallWatchdog(config.limits);
    this.configs = createPrng(config.seed, "clients");
    this.left = new Set(config.without);
  }

  /** A process warning, kept for the report. */
  warned(warning: Error): void {
    if (this.warnings.length < 10) this.warnings.push(`${warning.name}: ${warning.message}`);
  }

  async run(): Promise<void> {
    const { seconds, concurrency, clients } = this.config;
    this.loopDelay.enable();
    for (let i = 0; i < clients; i++) this.live.push(this.newClient());
    this.check("no-uncaught");
    const sweeper = setInterval(() => this.sweep(), 250);
    const sampler = setInterval(() => this.sample(), 1_000);
    const progress = setInterval(
      () =>
        this.send({
          t: "progress",
          at: now(),
          calls: this.calls,
          inFlight: this.watchdog.inFlight,
          checks: this.checks,
        }),
      5_000,
    );
    this.send({ t: "ready", at: now() });
    const stopAt = now() + seconds * 1_000;
    const stopper = sleep(seconds * 1_000).then(() => {
      this.stopping = true;
    });
    const workers = Array.from({ length: concurrency }, (_, i) => this.worker(i, stopAt));
    const closer = this.closer();
    await stopper;
    await closer;
    // Time is up: every client is closed with its calls still in flight; the workers end as their calls settle.
    await this.closeAll();
    await bounded(Promise.all(workers), 2_000);
    this.sweep();
    clearInterval(sweeper);
    clearInterval(sampler);
    clearInterval(progress);
    this.loopDelay.disable();
    this.send({ t: "summary", at: now(), summary: this.summary() });
    this.send({ t: "closed", at: now(), unresolved: this.closing.size });
  }

  /** A moment relative to when the last clients began to close, for the lingering report. */
  readonly relative = (at: number): string => {
    if (this.finalCloseAt === undefined) return "before the end";
    const ms = Math.round(at - this.finalCloseAt);
    return ms < 0
      ? `${-ms} ms before the last clients began to close`
      : `${ms} ms after the last clients began to close`;
  };

  /**
   * The clients open at `at` whose close() resolved since, for the lingering
   * report: one of them opened a socket made then and left it open (a client
   * whose close() never resolved may still hold its sockets; those are counted).
   */
  readonly clientsAt = (at: number): string => {
    const open = this.history.filter((s) => s.createdAt <= at && (s.closedAt ?? Number.POSITIVE_INFINITY) >= at);
    const closed = open.filter((s) => s.closedAt !== undefined).map((s) => `[${describeClient(s.config)}]`);
    const unresolved = open.length - closed.length;
    return `${closed.join(" ") || "none closed"}${unresolved > 0 ? ` (and ${unresolved} whose close() never resolved)` : ""}`;
  };

  /** How many clients' close() never resolved. */
  get unresolvedCloses(): number {
    return this.closing.size;
  }

  /** What is still open (for the lingering report). */
  openCalls(): string[] {
    return [...this.watchdog.openCalls()].map((c) => `${c.id}: ${c.what}`);
  }

  private newClient(): ClientSlot {
    const config = drawClientConfig(this.configs, this.made++);
    if (this.left.has("hedging")) config.hedging = false;
    this.count("clients made");
    const slot = new ClientSlot(config, this.config.target);
    this.history.push(slot);
    return slot;
  }

  private async worker(index: number, stopAt: number): Promise<void> {
    const prng = createPrng(this.config.seed, `worker-${index}`);
    for (let n = 1; n <= MAX_CALLS_PER_WORKER && !this.stopping && now() < stopAt; n++) {
      const slot = prng.pick(this.live);
      const plan = without(drawCall(prng), this.left);
      await this.call(slot, plan, `${slot.id}.w${index}.${n}.${plan.kind}`, prng);
    }
  }

  private async call(slot: ClientSlot, plan: CallPlan, id: string, prng: Prng): Promise<void> {
    this.calls++;
    this.countPlan(plan);
    const startedAt = now();
    const what = `${describePlan(plan)}; client ${describeClient(slot.config)}`;
    this.watchdog.open({
      id,
      startedAt,
      ...(plan.deadlineMs === undefined ? {} : { deadlineAt: startedAt + plan.deadlineMs }),
      client: slot,
      what,
      tag: plan.thrower ? `${plan.kind}, ${plan.thrower} throws` : plan.kind,
    });
    this.check("calls-settle");
    const done = runCall(slot, plan, id, prng).then((outcome) => {
      this.watchdog.settle(id);
      const endedAt = now();
      const verdict = judgeCall(plan, outcome, { startedAt, endedAt, closeAt: slot.closeAt });
      const counts = [this.kindCounts(plan.kind), this.strategyCounts(slot.config.strategy)];
      for (const c of counts) c.calls++;
      if (IDEMPOTENT[plan.kind]) this.check("available");
      if (slot.closeAt !== undefined && startedAt < slot.closeAt) this.check("close-contract");
      if (outcome.error === undefined) this.check("right-answers");
      const error = describeError(outcome.error);
      const retried = outcome.retries.length === 0 ? "" : `\nretries: ${outcome.retries.join("; ")}`;
      const evidence = `call ${id}: ${what}; ran ${Math.round(endedAt - startedAt)} ms${retried}\n${error.line}\n${error.stack}`;
      switch (verdict.kind) {
        case "ok":
          for (const c of counts) c.ok++;
          break;
        case "expected":
          for (const c of counts) c.expected++;
          this.expected[verdict.reason] = (this.expected[verdict.reason] ?? 0) + 1;
          break;
        case "not idempotent":
          for (const c of counts) c.notIdempotent++;
          break;
        case "unexplained":
          for (const c of counts) c.unexplained++;
          this.send({
            t: "failure",
            at: endedAt,
            startedAt,
            detail: `${plan.kind} on ${slot.config.strategy} failed: ${error.line}`,
            evidence,
            strategy: slot.config.strategy,
            // A failing backend's answers name it ("127.0.0.2 fails call 12").
            failedOn: [...outcome.retries, error.line].flatMap((line) =>
              [...line.matchAll(/(\d+\.\d+\.\d+\.\d+) fails call/g)].map((m) => m[1]!),
            ),
          });
          break;
        case "close contract":
          for (const c of counts) c.broken++;
          this.violate(
            "close-contract",
            `${plan.kind} made ${Math.round(slot.closeAt! - startedAt)} ms before close(${slot.graceMs === undefined ? "" : `{ graceMs: ${slot.graceMs} }`}) failed with ClientClosedError`,
            evidence,
          );
          break;
        case "wrong answer":
          for (const c of counts) c.broken++;
          this.violate("right-answers", verdict.detail, evidence);
          break;
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const limit = (plan.deadlineMs ?? this.config.limits.maxOpenMs) + ABANDON_AFTER_MS;
    const abandon = new Promise<"abandoned">((resolve) => (timer = setTimeout(() => resolve("abandoned"), limit)));
    if ((await Promise.race([done, abandon])) === "abandoned") this.abandoned++;
    clearTimeout(timer);
  }

  /** Closes a random client every 0.5-3 s and makes a new one in its place. */
  private async closer(): Promise<void> {
    const prng = createPrng(this.config.seed, "closer");
    while (!this.stopping) {
      await sleep(prng.between(500, 3_000));
      if (this.stopping) break;
      const slot = prng.pick(this.live);
      const grace = drawGrace(prng);
      if (this.left.has("closes")) continue;
      this.live = this.live.map((s) => (s === slot ? this.newClient() : s));
      this.close(slot, grace);
    }
  }

  private close(slot: ClientSlot, graceMs: number | undefined): Promise<void> {
    this.count(graceMs === undefined ? "close() without grace" : "close({ graceMs })");
    this.check("close-resolves");
    const closing = slot.close(graceMs);
    this.watchdog.closeStarted(slot);
    this.closing.add(slot);
    const tracked = closing.then(
      () => {
        this.replays += slot.refusedStreamReplays;
        this.watchdog.closeResolved(slot);
        this.closes.delete(tracked);
        this.closing.delete(slot);
      },
      (error: unknown) => {
        this.closes.delete(tracked);
        this.closing.delete(slot);
        this.violate("close-resolves", `close() of ${slot.id} rejected: ${describeError(error).line}`);
      },
    );
    this.closes.add(tracked);
    return tracked;
  }

  /**
   * Closes every client left, each with a grace of 0-500 ms (a grace bounds
   * how long its calls may still run), then waits for every close() under way,
   * bounded: one without a grace may wait for calls as long as the longest call.
   */
  private async closeAll(): Promise<void> {
    this.finalCloseAt = now();
    const prng = createPrng(this.config.seed, "final-close");
    for (const slot of this.live) this.close(slot, prng.int(0, 500));
    const { maxOpenMs, closeSlackMs } = this.config.limits;
    const latest = Math.max(0, ...[...this.closing].map((s) => s.closeAt! + (s.graceMs ?? maxOpenMs) - now()));
    await bounded(Promise.all(this.closes), latest + closeSlackMs + 500);
  }

  private sweep(): void {
    for (const overdue of this.watchdog.sweep(now())) {
      this.violate(
        overdue.kind === "call" ? "calls-settle" : "close-resolves",
        `${overdue.id} ${overdue.reason}`,
        overdue.what,
      );
    }
  }

  private sample(): void {
    (globalThis as { gc?: () => void }).gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    this.rss.push({ at: now(), rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20 });
  }

  private violate(invariant: InvariantName, detail: string, evidence?: string): void {
    this.send({ t: "violation", invariant, at: now(), detail, ...(evidence === undefined ? {} : { evidence }) });
  }

  private check(invariant: InvariantName): void {
    this.checks[invariant] = (this.checks[invariant] ?? 0) + 1;
  }

  private count(fault: string): void {
    this.faults[fault] = (this.faults[fault] ?? 0) + 1;
  }

  private countPlan(plan: CallPlan): void {
    if (plan.deadlineMs !== undefined) this.count("deadline");
    if (plan.abortAfterMs !== undefined) this.count("abort signal");
    if (plan.waitForReady) this.count("waitForReady");
    if (plan.thrower) this.count(`${plan.thrower} throws`);
    if (plan.metadata) this.count(`${plan.metadata} metadata`);
    if (plan.leaveEarly) this.count("stream left early");
  }

  private kindCounts(kind: CallKind): CallCounts {
    this.byKind[kind] ??= emptyCounts();
    return this.byKind[kind];
  }

  private strategyCounts(strategy: string): CallCounts {
    this.byStrategy[strategy] ??= emptyCounts();
    return this.byStrategy[strategy]!;
  }

  private summary(): DriverSummary {
    const ms = (ns: number) => Math.round(ns / 1e5) / 10;
    return {
      byKind: this.byKind,
      byStrategy: this.byStrategy,
      expected: this.expected,
      faults: this.faults,
      checks: this.checks,
      rss: this.rss,
      eventLoop: {
        p50Ms: ms(this.loopDelay.percentile(50)),
        p99Ms: ms(this.loopDelay.percentile(99)),
        maxMs: ms(this.loopDelay.max),
      },
      abandoned: this.abandoned,
      refusedStreamReplays: this.replays,
      warnings: this.warnings,
    };
  }
}

/** Waits for `promise`, at most `ms`. */
async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** A close() grace: none half the time, else 0 or 10-500 ms. */
function drawGrace(prng: Prng): number | undefined {
  const draw = prng.next();
  if (draw < 0.5) return undefined;
  return draw < 0.65 ? 0 : prng.int(10, 500);
}
