import { sleepOn, type Clock, type Timer } from '../../src/seams/clock.js';
import type { TimerGroup } from '../../src/seams/manual-clock.js';
import type { Scheduler } from './scheduler.js';

/**
 * One simulated node's view of the fleet's virtual clock: the same time as every other node,
 * but its own set of timers, so a crash can silence them.
 *
 * After {@link NodeClock.halt} (the node's process died) every pending timer is cancelled,
 * `setTimer` returns an inert timer that never fires, and `sleep` never settles — exactly what
 * a dead process sees, which is nothing. A restarted node gets a new NodeClock.
 *
 * Concurrency contract: as {@link Clock}; callbacks run as scheduler events, one at a time.
 */
export class NodeClock implements Clock {
  readonly #scheduler: Pick<Scheduler, 'now'>;
  readonly #timers: TimerGroup;

  /** @param scheduler the fleet's scheduler; this view's timers are one of its timer groups. */
  constructor(scheduler: Pick<Scheduler, 'now' | 'timerGroup'>) {
    this.#scheduler = scheduler;
    this.#timers = scheduler.timerGroup();
  }

  now(): number {
    return this.#scheduler.now();
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    return this.#timers.setTimer(delayMs, callback);
  }

  sleep(delayMs: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    return sleepOn(this, delayMs, options.signal);
  }

  /** Cancels every pending timer and ignores all later ones. Idempotent. */
  halt(): void {
    this.#timers.halt();
  }

  /** True after {@link NodeClock.halt}. */
  get halted(): boolean {
    return this.#timers.halted;
  }

  /** Timers set through this view that are still pending. */
  pendingTimers(): number {
    return this.#timers.pendingTimers();
  }
}
