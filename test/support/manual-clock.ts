/**
 * TEST-ONLY stand-in for the ManualClock landing on main (src/seams/manual-clock.ts).
 * Delete when rebasing on main and import the real one.
 *
 * Virtual time that moves only in `advance(ms)`; due timers fire in (due time, creation order).
 */
import { sleepOn, type Clock, type Timer } from '../../src/seams/clock.js';

interface Pending {
  due: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const entry: Pending = { due: this.current + Math.max(0, delayMs), seq: this.seq++, callback, cancelled: false };
    this.pending.push(entry);
    return { cancel: () => { entry.cancelled = true; } };
  }

  sleep(delayMs: number, options?: { signal?: AbortSignal }): Promise<void> {
    return sleepOn(this, delayMs, options?.signal);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.current + Math.max(0, ms);
    for (;;) {
      this.pending = this.pending.filter((p) => !p.cancelled);
      let next: Pending | undefined;
      for (const p of this.pending) {
        if (p.due <= target && (next === undefined || p.due < next.due || (p.due === next.due && p.seq < next.seq))) next = p;
      }
      if (next === undefined) break;
      this.current = Math.max(this.current, next.due);
      next.cancelled = true;
      next.callback();
    }
    this.current = target;
  }
}
