/**
 * Clock seam: the only way PACE code reads time or schedules work.
 *
 * The daemon passes a {@link SystemClock}; tests and the simulator pass a {@link ManualClock}
 * (virtual time that only moves when told). Code under `src/` must never call `Date.now`,
 * `setTimeout` or `setInterval` itself (enforced by `npm run check:ambient`).
 *
 * Concurrency contract: timer callbacks run on the event loop, one at a time, never
 * re-entrantly from inside `setTimer` or `cancel`.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (virtual in simulation). */
  now(): number;
  /** Runs `callback` once after `delayMs` (clamped to >= 0). */
  setTimer(delayMs: number, callback: () => void): Timer;
  /** Resolves after `delayMs`; rejects with the signal's reason if aborted first. */
  sleep(delayMs: number, options?: { signal?: AbortSignal }): Promise<void>;
}

/** A scheduled callback. `cancel()` is idempotent and safe after the timer fired. */
export interface Timer {
  cancel(): void;
}

/** Shared `sleep` built on `setTimer`, so every Clock implementation aborts the same way. */
export function sleepOn(clock: Pick<Clock, 'setTimer'>, delayMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimer(delayMs, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
