/**
 * The simulation trace: an append-only record of what happened (time, node, kind, details),
 * with a running SHA-256 over a canonical serialization of every event. Two runs of the same
 * seed must produce the same {@link Trace.hash}; `--check-determinism` compares them.
 */
import { createHash, type Hash } from 'node:crypto';

/** A JSON value with a single canonical text: finite numbers only, no undefined. */
export type TraceValue = string | number | boolean | null | readonly TraceValue[] | { readonly [key: string]: TraceValue };

export type TraceDetails = { readonly [key: string]: TraceValue };

export interface TraceEvent {
  /** Virtual time (ms). */
  readonly time: number;
  /** The node the event happened at, or `''` for fleet-wide events (partitions, heal). */
  readonly node: string;
  /** What happened, `noun:verb` style, e.g. `msg:deliver`, `peer:down`, `node:crash`. */
  readonly kind: string;
  readonly details: TraceDetails;
}

export interface TraceInit {
  /** Supplies the event time. */
  clock: { now(): number };
  /**
   * How many of the most recent events to keep in memory for inspection (`events()`); the hash
   * always covers every event. A 1,000-node run appends millions of events.
   * @default 100_000
   */
  retain?: number;
}

/** Default for {@link TraceInit.retain}. */
export const DEFAULT_TRACE_RETAIN = 100_000;

/** Characters of canonical lines collected before they are hashed (the hash of the concatenation is the same). */
const HASH_CHUNK_CHARS = 1 << 16;

/**
 * Append-only trace. `record` serializes the event canonically (`[time,node,kind,details]` as
 * JSON with object keys sorted, one line each) and feeds it to the hash (in chunks), so the hash
 * does not depend on how many events are retained.
 *
 * Concurrency contract: single-threaded use from scheduler events; not re-entrant.
 */
export class Trace {
  readonly #clock: { now(): number };
  readonly #retain: number;
  readonly #hash: Hash = createHash('sha256');
  /** Lines not yet fed to the hash: one native update per HASH_CHUNK_CHARS, not one per event. */
  #unhashed = '';
  /** Ring buffer of the last `#retain` events; `#start` indexes the oldest. */
  readonly #ring: TraceEvent[] = [];
  #start = 0;
  #count = 0;

  constructor(init: TraceInit) {
    this.#clock = init.clock;
    this.#retain = Math.max(0, init.retain ?? DEFAULT_TRACE_RETAIN);
  }

  /** Appends one event at the current virtual time. Throws TypeError for a non-canonical value. */
  record(node: string, kind: string, details: TraceDetails = {}): void {
    const event: TraceEvent = { time: this.#clock.now(), node, kind, details };
    this.#unhashed += canonicalLine(event);
    if (this.#unhashed.length >= HASH_CHUNK_CHARS) this.#flush();
    this.#count++;
    if (this.#retain === 0) return;
    if (this.#ring.length < this.#retain) {
      this.#ring.push(event);
    } else {
      this.#ring[this.#start] = event;
      this.#start = (this.#start + 1) % this.#retain;
    }
  }

  /** Events recorded so far (all of them, including those no longer retained). */
  get length(): number {
    return this.#count;
  }

  /** The retained events, oldest first. */
  events(): TraceEvent[] {
    return [...this.#ring.slice(this.#start), ...this.#ring.slice(0, this.#start)];
  }

  /** Hex SHA-256 over every event recorded so far; recording may continue afterwards. */
  hash(): string {
    this.#flush();
    return this.#hash.copy().digest('hex');
  }

  #flush(): void {
    this.#hash.update(this.#unhashed);
    this.#unhashed = '';
  }
}

/** The canonical text of one event: `[time,node,kind,details]` with sorted keys, plus `\n`. */
export function canonicalLine(event: TraceEvent): string {
  return `[${canonicalJson(event.time)},${JSON.stringify(event.node)},${JSON.stringify(event.kind)},${canonicalJson(event.details)}]\n`;
}

/**
 * JSON with object keys sorted by code unit, so equal values have equal text whatever the
 * insertion order. Throws TypeError for non-finite numbers and for anything not a
 * {@link TraceValue} (which could otherwise serialize differently, or not at all).
 *
 * Hot path (called for every trace event): objects whose keys are already in order — write
 * details with sorted keys — are serialized without sorting.
 */
export function canonicalJson(value: TraceValue): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`trace values must be finite numbers, got ${value}`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        const items = value as readonly TraceValue[];
        let out = '[';
        for (let i = 0; i < items.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(items[i] as TraceValue);
        return `${out}]`;
      }
      const record = value as { readonly [key: string]: TraceValue };
      let keys = Object.keys(record);
      let sorted = true;
      let flat = true;
      for (let i = 0; i < keys.length; i++) {
        if (i > 0 && (keys[i - 1] as string) > (keys[i] as string)) sorted = false;
        const v = record[keys[i] as string];
        if (!(typeof v === 'string' || typeof v === 'boolean' || v === null || (typeof v === 'number' && Number.isFinite(v)))) flat = false;
      }
      // Sorted keys and only primitive values: the engine's own JSON is already canonical.
      if (sorted && flat) return JSON.stringify(record);
      if (!sorted) keys = keys.slice().sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const v = record[key];
        if (v === undefined) throw new TypeError(`trace value for ${JSON.stringify(key)} is undefined`);
        out += `${i === 0 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`not a trace value: ${typeof value}`);
  }
}
