import { sleepOn, type Clock, type Timer } from './clock.js';

/** Heaps smaller than this are never compacted; cancelled entries are cheap until then. */
const COMPACT_MIN_SIZE = 1024;

interface Entry {
  readonly due: number;
  /** Insertion order; breaks ties between timers due at the same instant. */
  readonly seq: number;
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

/**
 * Virtual time for tests and the simulator: time moves only when told to, and timers fire
 * synchronously inside {@link ManualClock.advance} / {@link ManualClock.runNext}, in
 * (due time, insertion order) order. `now()` equals the firing timer's due time while its
 * callback runs.
 *
 * Pending timers live in a binary min-heap, so scheduling and firing are O(log n).
 * A cancelled timer stays in the heap until it reaches the top and is then dropped unfired.
 * (One bucket per due instant was tried: a win when a thousand broadcast copies share an
 * instant, five times slower per timer when instants are distinct, as most are.)
 *
 * Promise continuations (e.g. code after `await clock.sleep(...)`) are microtasks: they run
 * after `advance` returns, not between the timers it fires. Await a macrotask turn, or use
 * `advance` in small steps, when a test needs them to run in between.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #live = 0;
  readonly #heap: Entry[] = [];

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
    const entry: Entry = { due: this.#now + delay, seq: this.#seq++, callback, cancelled: false, group };
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
    this.#pop();
    entry.cancelled = true; // fired: a later cancel() is a no-op
    this.#live--;
    if (entry.group !== undefined) entry.group.pending--;
    if (entry.due > this.#now) this.#now = entry.due;
    entry.callback();
  }

  /** The top of the heap after discarding cancelled entries. */
  #peekLive(): Entry | undefined {
    let top = this.#heap[0];
    while (top !== undefined && isDead(top)) {
      this.#pop();
      top = this.#heap[0];
    }
    return top;
  }

  /**
   * Drops cancelled entries once they are the majority of a large heap, so a caller that
   * schedules and cancels many timers (e.g. per-request timeouts) keeps memory bounded.
   * A sorted array is a valid heap, so sorting rebuilds it.
   */
  #compactIfSparse(): void {
    const heap = this.#heap;
    if (heap.length < COMPACT_MIN_SIZE || this.#live * 2 > heap.length) return;
    const kept = heap.filter((e) => !isDead(e)).sort((a, b) => (before(a, b) ? -1 : 1));
    heap.length = 0;
    for (const entry of kept) heap.push(entry);
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Entry;
      if (!before(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && before(heap[right] as Entry, heap[left] as Entry)) child = right;
      const c = heap[child] as Entry;
      if (!before(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}

const INERT_TIMER: Timer = { cancel: () => undefined };

/** Cancelled, fired, or set through a group since halted. */
function isDead(entry: Entry): boolean {
  return entry.cancelled || entry.group?.halted === true;
}

function before(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
