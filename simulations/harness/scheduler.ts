/**
 * The simulator's discrete-event loop: one virtual clock for the whole fleet, events run one at
 * a time in (virtual time, scheduling order), and every promise continuation an event causes
 * has run before the next event starts.
 *
 * Why the order depends only on the seed: JavaScript runs one thing at a time. The only ways
 * work enters are (1) macrotasks — timers, I/O, `setImmediate` — and (2) microtasks — promise
 * continuations, which the engine runs in FIFO order once the current task ends. In a
 * simulation the code under test starts no macrotasks of its own (its timers are virtual, via
 * the {@link Clock} views handed out here; it does no real I/O), so the only macrotask source
 * is this loop. The loop fires ONE event (a {@link ManualClock} timer, chosen by due time then
 * sequence number), then waits until the engine has run the whole microtask queue — including
 * microtasks queued by microtasks, to any depth — so when the loop resumes every continuation
 * the event caused has finished (or is parked on a promise only a later event settles). The
 * next event is then again the heap's minimum. Every step is a function of the program and the
 * previous steps, so a seed replays exactly.
 *
 * How it waits ({@link Scheduler}'s drain): from inside a microtask it queues a
 * `process.nextTick`, which Node runs only once V8's microtask queue is empty — exact, and a
 * fraction of the cost of a macrotask turn (3–5 µs for `setImmediate` here, most of a large
 * fleet's steady state). Every 256th wait is a full `setImmediate` turn instead, so V8 and Node
 * run their own tasks. Both give the same order of events. The tick is exact only if the code
 * under test queues no ticks of its own: `check-ambient` keeps `process.nextTick` and
 * `setImmediate` out of `src/`.
 *
 * Why not a bounded loop of `await Promise.resolve()`: it is faster still (~0.06 µs per turn)
 * but a continuation chain deeper than the bound would spill into the next event — still
 * deterministic, but time would have moved under it, so `now()` would read wrong.
 *
 * What breaks the argument: code under test that awaits real asynchronous work — `fs`,
 * sockets, `crypto.subtle`, `crypto.pbkdf2` with a callback, worker threads. Those settle on
 * the thread pool at wall-clock moments, between arbitrary events. Under simulation use the
 * synchronous forms or the seams (Storage = MemoryStorage, Mesh = SimMesh, Clock = these views).
 */
import type { Clock, Timer } from '../../src/seams/clock.js';
import { sleepOn } from '../../src/seams/clock.js';
import { ManualClock, type TimerGroup } from '../../src/seams/manual-clock.js';

/** Why a run returned. */
export type RunStopReason =
  /** `runUntil(timeMs)` reached its time. */
  | 'time'
  /** `runUntil(predicate)`: the predicate held. */
  | 'predicate'
  /** No event was pending (and, for a predicate run, the predicate did not hold). */
  | 'idle'
  /** `runUntil(predicate)`: the deadline came first; the clock stands at the deadline. */
  | 'deadline';

export interface RunResult {
  reason: RunStopReason;
  /** Virtual time when the run returned. */
  now: number;
  /** Events this run fired. */
  events: number;
}

export interface SchedulerInit {
  /** Virtual time at which the simulation starts (ms since the epoch). @default 0 */
  startMs?: number;
  /**
   * A single run that fires more events than this throws {@link SchedulerLimitError}: the guard
   * against `runUntilIdle` with periodic timers, or a runaway feedback loop.
   * @default 50_000_000
   */
  maxEventsPerRun?: number;
}

/** Default for {@link SchedulerInit.maxEventsPerRun}. */
export const DEFAULT_MAX_EVENTS_PER_RUN = 50_000_000;

/** A run was started while another run (or the background pump's event) was in progress. */
export class SchedulerBusyError extends Error {
  override readonly name = 'SchedulerBusyError';
  constructor() {
    super('the scheduler is already running: await the current run before starting another');
  }
}

/** A run fired more than `maxEventsPerRun` events. */
export class SchedulerLimitError extends Error {
  override readonly name = 'SchedulerLimitError';
  constructor(readonly limit: number, readonly now: number) {
    super(`run fired more than ${limit} events (virtual time ${now} ms): periodic timers never go idle, or a feedback loop`);
  }
}

/** Every this many waits, a full event-loop turn (setImmediate) instead of a tick (see the module comment). */
const LOOP_TURN_EVERY = 256;

/**
 * The single-threaded discrete-event scheduler. Everything in a simulated fleet schedules
 * through {@link Scheduler.clock} (or a {@link NodeClock} built on it), so there is exactly one
 * queue of events and one notion of now.
 *
 * Concurrency contract: at most one run at a time (`runUntil`, `runUntilIdle`, `step`);
 * starting another while one is in progress rejects with {@link SchedulerBusyError}. Event
 * callbacks that throw make the run reject with that error (a simulation fails loudly); the
 * failed event is consumed and the clock stands at its time.
 */
export class Scheduler {
  /** Waits so far (which of them are full loop turns: LOOP_TURN_EVERY). */
  #waits = 0;

  /**
   * Returns after the engine has drained the whole microtask queue, at any depth (see the
   * module comment). The first hop puts the rest inside a microtask: a tick queued from a timer
   * or an immediate callback would run before the promise queue, not after it.
   */
  async #drain(): Promise<void> {
    await undefined;
    if (++this.#waits % LOOP_TURN_EVERY === 0) return new Promise<void>((resolve) => setImmediate(resolve));
    return new Promise<void>((resolve) => process.nextTick(resolve));
  }

  readonly #manual: ManualClock;
  readonly #maxEvents: number;
  #eventsRun = 0;
  #busy = false;
  /** Resolves the background pump when it sleeps on an empty queue. */
  #wake: (() => void) | undefined;

  /**
   * The fleet-wide virtual clock. Timers set here are scheduler events. Give nodes a
   * {@link NodeClock} over it instead, so a crash can silence the node's timers.
   */
  readonly clock: Clock;

  constructor(init: SchedulerInit = {}) {
    this.#manual = new ManualClock(init.startMs ?? 0);
    this.#maxEvents = init.maxEventsPerRun ?? DEFAULT_MAX_EVENTS_PER_RUN;
    const manual = this.#manual;
    const setTimer = (delayMs: number, callback: () => void): Timer => this.#scheduled(manual.setTimer(delayMs, callback));
    this.clock = {
      now: () => manual.now(),
      setTimer,
      sleep: (delayMs: number, options: { signal?: AbortSignal } = {}) => sleepOn({ setTimer }, delayMs, options.signal),
    };
  }

  /**
   * A group of timers on the fleet clock that can be silenced at once: one node's timers (a
   * {@link NodeClock} is built on one). Its timers are scheduler events like any other.
   */
  timerGroup(): TimerGroup {
    const group = this.#manual.group();
    return {
      setTimer: (delayMs, callback) => this.#scheduled(group.setTimer(delayMs, callback)),
      halt: () => group.halt(),
      get halted() {
        return group.halted;
      },
      pendingTimers: () => group.pendingTimers(),
    };
  }

  /** Current virtual time (ms). */
  now(): number {
    return this.#manual.now();
  }

  /** Events fired since construction, by every kind of run. */
  get eventsRun(): number {
    return this.#eventsRun;
  }

  /** Events scheduled and neither fired nor cancelled. */
  pendingEvents(): number {
    return this.#manual.pendingTimers();
  }

  /** Due time of the next event, or undefined when none is pending. */
  nextEventTime(): number | undefined {
    return this.#manual.nextDueTime();
  }

  /** Fires the next event (if any) and drains its continuations. False when none was pending. */
  async step(): Promise<boolean> {
    this.#enter();
    try {
      await this.#drain();
      if (this.#manual.nextDueTime() === undefined) return false;
      this.#fire();
      await this.#drain();
      return true;
    } finally {
      this.#exit();
    }
  }

  /**
   * `runUntil(timeMs)`: fires every event due at or before `timeMs` (absolute virtual time),
   * including events those events schedule inside the window, then sets the clock to `timeMs`
   * (never backwards). Reason `'time'`.
   *
   * `runUntil(predicate, { deadlineMs })`: checks `predicate` before the first event and after
   * each event's continuations have drained; returns `'predicate'` as soon as it holds. If the
   * next event lies beyond `deadlineMs` (absolute), moves the clock to the deadline, checks
   * once more and returns `'deadline'` (or `'predicate'`). If no event is pending at all, returns
   * `'idle'` without moving the clock: nothing could ever make the predicate true.
   * The predicate may have side effects (e.g. publish again); they count as part of the step.
   */
  runUntil(timeMs: number): Promise<RunResult>;
  runUntil(predicate: () => boolean, options: { deadlineMs: number }): Promise<RunResult>;
  async runUntil(target: number | (() => boolean), options?: { deadlineMs: number }): Promise<RunResult> {
    this.#enter();
    try {
      if (typeof target === 'number') return await this.#runToTime(target);
      if (options === undefined) throw new TypeError('runUntil(predicate) needs { deadlineMs }');
      return await this.#runToPredicate(target, options.deadlineMs);
    } finally {
      this.#exit();
    }
  }

  /**
   * Fires events until none is pending. Returns reason `'idle'`. With periodic timers this never
   * happens, and the run throws {@link SchedulerLimitError} after `maxEventsPerRun` events.
   */
  async runUntilIdle(): Promise<RunResult> {
    this.#enter();
    try {
      const start = this.#eventsRun;
      await this.#drain();
      while (this.#manual.nextDueTime() !== undefined) {
        this.#fire(start);
        await this.#drain();
      }
      return this.#result('idle', start);
    } finally {
      this.#exit();
    }
  }

  /**
   * Auto-advance mode for tests that `await` simulated operations directly (e.g. the shared
   * Mesh compliance suite awaits `request()`): whenever no explicit run is in progress, the
   * pump fires the next pending event, one per macrotask turn, and sleeps while the queue is
   * empty. Explicit runs still work and take precedence. Virtual time therefore jumps straight
   * to each next event, so a 30 s timeout costs no wall time. Do not use it for scenarios:
   * with periodic timers it never rests. Returns a function that stops the pump and resolves
   * once it has; if an event threw, the pump stopped there and that function rejects with it.
   */
  runInBackground(): () => Promise<void> {
    let stopped = false;
    let failure: { error: unknown } | undefined;
    const pump = async (): Promise<void> => {
      while (!stopped) {
        await this.#drain();
        if (stopped) break;
        if (this.#busy || this.#manual.nextDueTime() === undefined) {
          // Woken by a timer scheduled on an idle queue, by the end of an explicit run, or by stop.
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          continue;
        }
        this.#busy = true;
        try {
          this.#fire();
        } catch (error) {
          failure = { error };
          return;
        } finally {
          this.#busy = false;
        }
      }
    };
    const done = pump();
    return async () => {
      stopped = true;
      this.#notify();
      await done;
      if (failure !== undefined) throw failure.error;
    };
  }

  async #runToTime(timeMs: number): Promise<RunResult> {
    const start = this.#eventsRun;
    await this.#drain();
    for (;;) {
      const due = this.#manual.nextDueTime();
      if (due === undefined || due > timeMs) break;
      this.#fire(start);
      await this.#drain();
    }
    // Nothing is due at or before timeMs and no await intervenes, so this fires nothing.
    if (timeMs > this.#manual.now()) this.#manual.advance(timeMs - this.#manual.now());
    return this.#result('time', start);
  }

  async #runToPredicate(predicate: () => boolean, deadlineMs: number): Promise<RunResult> {
    const start = this.#eventsRun;
    await this.#drain();
    for (;;) {
      if (predicate()) return this.#result('predicate', start);
      const due = this.#manual.nextDueTime();
      if (due === undefined) return this.#result('idle', start);
      if (due > deadlineMs) {
        if (deadlineMs > this.#manual.now()) this.#manual.advance(deadlineMs - this.#manual.now());
        await this.#drain();
        return this.#result(predicate() ? 'predicate' : 'deadline', start);
      }
      this.#fire(start);
      await this.#drain();
    }
  }

  /** Fires the earliest event; `runStart` enables the per-run event limit. */
  #fire(runStart?: number): void {
    if (runStart !== undefined && this.#eventsRun - runStart >= this.#maxEvents) {
      throw new SchedulerLimitError(this.#maxEvents, this.#manual.now());
    }
    this.#eventsRun++;
    this.#manual.runNext();
  }

  #result(reason: RunStopReason, start: number): RunResult {
    return { reason, now: this.#manual.now(), events: this.#eventsRun - start };
  }

  #enter(): void {
    if (this.#busy) throw new SchedulerBusyError();
    this.#busy = true;
  }

  /** A timer was just set: wakes the background pump if it sleeps on an empty queue. */
  #scheduled(timer: Timer): Timer {
    if (!this.#busy) this.#notify();
    return timer;
  }

  #exit(): void {
    this.#busy = false;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
