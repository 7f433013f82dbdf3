// Stopping the clock for tests that mean one case of a time-dependent outcome (two runs in one second, a
// token signed long ago) and must not depend on when they happen to run.
import { vi } from "vitest";

/** The current second, 250 ms in: the moment a frozen clock is set to. */
export function thisSecond(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000 + 250);
}

/**
 * Runs `fn` with `Date` (only `Date`) standing still at `at`: everything started inside reads the same
 * moment. Timers, sockets and `performance` keep real time.
 */
export async function withDateFrozen<T>(at: Date, fn: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ["Date"], now: at });
  try {
    return await fn();
  } finally {
    vi.useRealTimers();
  }
}

/** The snapshot name of a run started at `at` (UTC `yyyy-MM-dd_HH-mm-ss`), spelled out independently of src/. */
export function nameAt(at: Date): string {
  return at.toISOString().slice(0, 19).replace("T", "_").replaceAll(":", "-");
}
