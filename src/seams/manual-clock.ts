import { sleepOn, type Clock, type Timer } from './clock.js';

/** Below this many stored entries the queue is never compacted; cancelled entries are cheap until then. */
const COMPACT_MIN_SIZE = 1024;

interface Entry {
  readonly due: number;
  readonly callback: () => void;
  cancelled: boolean;
  /** The group it was set through (ManualClock.group), if any: a halted group's entries are dead. */
  readonly group: GroupState | undefined;
}

interface GroupState {
  halted: boolean;
  /** Its timers neither fired nor cancelled. */
  pending: number;
}

/**
 * Timers set through {@link ManualClock.group}, which can all be cancelled at once — a simulated
 * node's timers, silenced when its process dies. Cheaper than tracking each timer: a halt marks
 * the group, and its entries are dropped when they come up.
 */
export interface TimerGroup {
  /** As {@link Clock.setTimer}; after {@link TimerGroup.halt} the timer never fires. */
  setTimer(delayMs: number, callback: () => void): Timer;
  /** Cancels every pending timer of the group and every later one. Idempotent. */
  halt(): void;
  readonly halted: boolean;
  /** Timers of the group neither fired nor cancelled. */
  pendingTimers(): number;
}

/** The timers due at one instant, in the order they were set; `next` indexes the first not yet taken. */
interface Bucket {
  readonly entries: Entry[];
  next: number;
}

/**
 * Virtual time for tests and the simulator: time moves only when told to, and timers fire
 * synchronously inside {@link ManualClock.advance} / {@link ManualClock.runNext}, in
 * (due time, insertion order) order. `now()` equals the firing timer's due time while its
 * callback runs.
 *
 * Pending timers are kept in one bucket per due instant — an array in insertion order — and a
 * binary min-heap of the instants. A simulated fleet sets most of its timers on a few instants
 * (a broadcast's copies all arrive one link latency later), so setting and firing a timer is
 * O(1) but for the first and last timer of an instant, O(log instants). A cancelled timer stays
 * in its bucket until it comes up and is then dropped unfired.
 *
 * Promise continuations (e.g. code after `await clock.sleep(...)`) are microtasks: they run
 * after `advance` returns, not between the timers it fires. Await a macrotask turn, or use
 * `advance` in small steps, when a test needs them to run in between.
 */
export class ManualClock implements Clock {
  #now: number;
  #live = 0;
  /** Entries in buckets not yet taken, cancelled ones included. */
  #stored = 0;
  readonly #buckets = new Map<number, Bucket>();
  /** Due instants that have a bucket: a binary min-heap. */
  readonly #instants: number[] = [];

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    return this.#schedule(delayMs, callback, undefined);
  }

  /** A new group of timers on this clock (see {@link TimerGroup}). */
  group(): TimerGroup {
    const state: GroupState = { halted: false, pending: 0 };
    return {
      setTimer: (delayMs, callback) => (state.halted ? INERT_TIMER : this.#schedule(delayMs, callback, state)),
      halt: () => {
        if (state.halted) return;
        state.halted = true;
        this.#live -= state.pending;
        state.pending = 0;
        this.#compactIfSparse();
      },
      get halted() {
        return state.halted;
      },
      pendingTimers: () => state.pending,
    };
  }

  #schedule(delayMs: number, callback: () => void, group: GroupState | undefined): Timer {
    const delay = Number.isFinite(delayMs) ? Math.max(0, delayMs) : 0;
    const entry: Entry = { due: this.#now + delay, callback, cancelled: false, group };
    this.#push(entry);
    this.#live++;
    if (group !== undefined) group.pending++;
    return {
      cancel: () => {
        if (entry.cancelled || group?.halted === true) return;
        entry.cancelled = true;
        this.#live--;
        if (group !== undefined) group.pending--;
        this.#compactIfSparse();
      },
    };
  }

  sleep(delayMs: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    return sleepOn(this, delayMs, options.signal);
  }

  /**
   * Moves time forward by `ms` (>= 0), firing every timer due at or before the new time —
   * including timers that callbacks schedule inside the window. Ends with `now()` at the
   * window's end. A callback that throws propagates out; time stays at its due time.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(${ms}): ms must be >= 0`);
    const end = this.#now + ms;
    for (;;) {
      const next = this.#peekLive();
      if (next === undefined || next.due > end) break;
      this.#fire(next);
    }
    this.#now = end;
  }

  /** Fires the earliest pending timer, moving time to its due time. False when none is pending. */
  runNext(): boolean {
    const next = this.#peekLive();
    if (next === undefined) return false;
    this.#fire(next);
    return true;
  }

  /** Number of timers scheduled and neither fired nor cancelled. */
  pendingTimers(): number {
    return this.#live;
  }

  /** Due time of the earliest pending timer, or undefined when none is pending. */
  nextDueTime(): number | undefined {
    return this.#peekLive()?.due;
  }

  #fire(entry: Entry): void {
    this.#take();
    entry.cancelled = true; // fired: a later cancel() is a no-op
    this.#live--;
    if (entry.group !== undefined) entry.group.pending--;
    if (entry.due > this.#now) this.#now = entry.due;
    entry.callback();
  }

  /** The earliest pending entry after discarding cancelled ones. */
  #peekLive(): Entry | undefined {
    for (;;) {
      const due = this.#instants[0];
      if (due === undefined) return undefined;
      const bucket = this.#buckets.get(due) as Bucket;
      const { entries } = bucket;
      while (bucket.next < entries.length && isDead(entries[bucket.next] as Entry)) {
        bucket.next++;
        this.#stored--;
      }
      if (bucket.next < entries.length) return entries[bucket.next];
      this.#buckets.delete(due);
      popInstant(this.#instants);
    }
  }

  /** Removes the entry {@link #peekLive} returned. */
  #take(): void {
    const bucket = this.#buckets.get(this.#instants[0] as number) as Bucket;
    bucket.next++;
    this.#stored--;
  }

  /**
   * Drops cancelled entries once they are the majority of a large queue, so a caller that
   * schedules and cancels many timers (e.g. per-request timeouts) keeps memory bounded.
   */
  #compactIfSparse(): void {
    if (this.#stored < COMPACT_MIN_SIZE || this.#live * 2 > this.#stored) return;
    this.#stored = 0;
    for (const [due, bucket] of this.#buckets) {
      const kept = bucket.entries.slice(bucket.next).filter((e) => !isDead(e));
      this.#stored += kept.length;
      if (kept.length > 0) this.#buckets.set(due, { entries: kept, next: 0 });
      else this.#buckets.delete(due);
    }
    // A sorted array is a valid heap.
    const instants = [...this.#buckets.keys()].sort((a, b) => a - b);
    this.#instants.length = 0;
    for (const due of instants) this.#instants.push(due);
  }

  #push(entry: Entry): void {
    this.#stored++;
    const bucket = this.#buckets.get(entry.due);
    if (bucket !== undefined) {
      bucket.entries.push(entry);
      return;
    }
    this.#buckets.set(entry.due, { entries: [entry], next: 0 });
    pushInstant(this.#instants, entry.due);
  }
}

const INERT_TIMER: Timer = { cancel: () => undefined };

/** Cancelled, fired, or set through a group since halted. */
function isDead(entry: Entry): boolean {
  return entry.cancelled || entry.group?.halted === true;
}

function pushInstant(heap: number[], due: number): void {
  heap.push(due);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent] as number;
    if (p <= due) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = due;
}

function popInstant(heap: number[]): void {
  const last = heap.pop();
  if (last === undefined || heap.length === 0) return;
  const n = heap.length;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= n) break;
    const right = left + 1;
    let child = left;
    if (right < n && (heap[right] as number) < (heap[left] as number)) child = right;
    const c = heap[child] as number;
    if (c >= last) break;
    heap[i] = c;
    i = child;
  }
  heap[i] = last;
}
