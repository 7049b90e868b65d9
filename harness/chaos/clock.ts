/**
 * Milliseconds since the Unix epoch, with performance.now()'s resolution: the
 * one clock of the soak, the same in the orchestrator, the client process and
 * the report, so a call's moments compare with the backends' up/down moments.
 */
export const now = (): number => performance.timeOrigin + performance.now();

/** Waits `ms`; the timer keeps the process alive (the soak's own loops are bounded). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
