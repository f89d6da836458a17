import { sleepOn, type Clock, type Timer } from '../../src/seams/clock.js';

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
  readonly #root: Clock;
  readonly #live = new Set<Timer>();
  #halted = false;

  /** @param root the fleet clock (`Scheduler.clock`). */
  constructor(root: Clock) {
    this.#root = root;
  }

  now(): number {
    return this.#root.now();
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    if (this.#halted) return INERT_TIMER;
    const timer = this.#root.setTimer(delayMs, () => {
      this.#live.delete(timer);
      callback();
    });
    this.#live.add(timer);
    return {
      cancel: () => {
        if (this.#live.delete(timer)) timer.cancel();
      },
    };
  }

  sleep(delayMs: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    return sleepOn(this, delayMs, options.signal);
  }

  /** Cancels every pending timer and ignores all later ones. Idempotent. */
  halt(): void {
    this.#halted = true;
    for (const timer of this.#live) timer.cancel();
    this.#live.clear();
  }

  /** True after {@link NodeClock.halt}. */
  get halted(): boolean {
    return this.#halted;
  }

  /** Timers set through this view that are still pending. */
  pendingTimers(): number {
    return this.#live.size;
  }
}

const INERT_TIMER: Timer = { cancel: () => undefined };
