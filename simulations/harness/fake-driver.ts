/**
 * A {@link Driver} for the simulator and reconciler tests: performs nothing, records every
 * `ensure` with virtual timestamps, takes a configurable virtual time, and fails on demand.
 */
import type { Clock } from '../../src/seams/clock.js';
import { DriverError, type Driver, type DriverContext } from '../../src/drivers/driver.js';
import type { Role } from '../../src/policy/types.js';
import type { Trace } from './trace.js';

/** One `ensure` call as the fake saw it. */
export interface DriverAction {
  readonly role: Role;
  /** Virtual time the call started / settled. */
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly outcome: 'ok' | 'failed' | 'aborted';
  /** The failure message, for `failed`. */
  readonly error?: string;
}

export interface FakeDriverInit {
  clock: Clock;
  /** Node id, for the trace. @default '' */
  node?: string;
  /** Virtual time each `ensure` takes before it settles. @default 0 */
  durationMs?: number;
  /** Records `driver:ensure` events. @default none */
  trace?: Trace;
}

/** Decides whether one call fails: a reason string to fail with, or undefined to succeed. */
export type FailureRule = (role: Role, call: number) => string | undefined;

/**
 * Concurrency contract: as {@link Driver} — one `ensure` at a time; the fake does not check.
 * Failure injection is consulted when a call settles (after `durationMs`): first the queued
 * one-shot failures (`failNext`), then the standing rule (`failWhen`).
 */
export class FakeDriver implements Driver {
  readonly #clock: Clock;
  readonly #node: string;
  readonly #durationMs: number;
  readonly #trace: Trace | undefined;
  readonly #actions: DriverAction[] = [];
  readonly #queued: string[] = [];
  #rule: FailureRule | undefined;
  #role: Role | undefined;
  #calls = 0;

  constructor(init: FakeDriverInit) {
    this.#clock = init.clock;
    this.#node = init.node ?? '';
    this.#durationMs = init.durationMs ?? 0;
    this.#trace = init.trace;
  }

  async ensure(role: Role, context: DriverContext = {}): Promise<void> {
    const call = this.#calls++;
    const startedAt = this.#clock.now();
    const finish = (outcome: DriverAction['outcome'], error?: string): void => {
      const action: DriverAction = { role, startedAt, finishedAt: this.#clock.now(), outcome, ...(error === undefined ? {} : { error }) };
      this.#actions.push(action);
      this.#trace?.record(this.#node, 'driver:ensure', { role, outcome, ...(error === undefined ? {} : { error }) });
    };
    try {
      context.signal?.throwIfAborted();
      if (this.#durationMs > 0) await this.#clock.sleep(this.#durationMs, context.signal === undefined ? {} : { signal: context.signal });
    } catch (reason) {
      finish('aborted');
      throw reason;
    }
    const failure = this.#queued.shift() ?? this.#rule?.(role, call);
    if (failure !== undefined) {
      finish('failed', failure);
      throw new DriverError(role, failure);
    }
    this.#role = role;
    finish('ok');
  }

  /** The next `count` calls fail with `reason`. */
  failNext(count = 1, reason = 'injected failure'): this {
    for (let i = 0; i < count; i++) this.#queued.push(reason);
    return this;
  }

  /** Every later call consults `rule` (after the one-shot failures); undefined clears it. */
  failWhen(rule: FailureRule | undefined): this {
    this.#rule = rule;
    return this;
  }

  /** Every call so far, oldest first. */
  get actions(): readonly DriverAction[] {
    return this.#actions;
  }

  /** The role the last successful `ensure` established, or undefined before any. */
  get role(): Role | undefined {
    return this.#role;
  }
}
