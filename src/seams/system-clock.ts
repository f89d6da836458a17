import { sleepOn, type Clock, type Timer } from './clock.js';

export interface SystemClockInit {
  /**
   * When true, timers do not keep the process alive (`Timeout.unref()`), for background
   * housekeeping that must not delay shutdown.
   * @default false
   */
  unrefTimers?: boolean;
}

/**
 * The real clock: `Date.now()` and the host's `setTimeout`.
 *
 * One of the two seam adapters allowed to touch ambient time (see `scripts/check-ambient.ts`).
 * Only the daemon's entry point constructs it; everything else receives a {@link Clock}.
 */
export class SystemClock implements Clock {
  readonly #unrefTimers: boolean;

  constructor(init: SystemClockInit = {}) {
    this.#unrefTimers = init.unrefTimers ?? false;
  }

  now(): number {
    return Date.now();
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    if (this.#unrefTimers) handle.unref();
    return { cancel: () => clearTimeout(handle) };
  }

  sleep(delayMs: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    return sleepOn(this, delayMs, options.signal);
  }
}
