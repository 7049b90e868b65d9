import type { Slack } from "./timeline.js";
import type { WatchdogLimits } from "./watchdog.js";

/**
 * The soak's tolerances, in one place (docs/chaos.md states each and why).
 *
 * - A call with a deadline settles within 2 s of it: the engine's own
 *   deadline timer ends it; 2 s covers event-loop delay on a busy 2-core machine.
 * - A closing client's calls settle within 3 s after its grace (or, without a
 *   grace, after the longest call), and its close() resolves by then too.
 * - No call stays open 20 s: the backends hold a call at most 1.5 s (stall)
 *   plus 2 s (SIGSTOP), a restart takes about 1 s, and every stream sends at
 *   most 12 messages 20 ms apart.
 */
export const WATCHDOG_LIMITS: WatchdogLimits = { deadlineSlackMs: 2_000, closeSlackMs: 3_000, maxOpenMs: 20_000 };

/**
 * An idempotent call may fail while every backend is down, counting a
 * backend as down from 250 ms before its fault (the signal on its way,
 * clocks of two processes) until a while after it was undone, by why it was down:
 * - killed (and restarted): as long as grpc-js may take to try it again, plus
 *   0.5 s. grpc-js waits 1 s, 1.6 s, 2.56 s, … (±20 %, at most 120 s) between
 *   attempts to reconnect an address that refused (see {@link reconnectWithinMs}).
 * - stopped (SIGSTOP): 1 s. Its connections resume with the process; a client
 *   whose keepalive dropped one reconnects at once.
 * - failing every call: 0.5 s. Nothing to reconnect: attempts already failed
 *   and retries in backoff (50-400 ms) still end.
 */
export const OUTAGE_SLACK: Slack = {
  before: 250,
  after: (reason, downMs) =>
    reason === "killed" ? reconnectWithinMs(downMs) + 500 : reason === "stopped" ? 1_000 : 500,
};

/**
 * The longest a client may wait, after an address that refused connections
 * for `downMs` listens again, before grpc-js tries it: its backoff (1 s,
 * growing 1.6× per attempt, ±20 % jitter, at most 120 s) with every wait as
 * short as the jitter allows (the most attempts, so the longest next wait),
 * that next wait at its longest.
 */
export function reconnectWithinMs(downMs: number): number {
  let at = 0;
  let backoff = 1_000;
  while (at + 0.8 * backoff < downMs && backoff < 120_000) {
    at += 0.8 * backoff;
    backoff = Math.min(backoff * 1.6, 120_000);
  }
  return 1.2 * backoff;
}

/** The client process must exit within this long of its last close() resolving, ms. */
export const EXIT_LIMIT_MS = 5_000;

/** RSS samples before this share of the run (at least 10 s) are warm-up. */
export const warmupMs = (seconds: number): number => Math.max(10_000, seconds * 250);
