import { encodedUpdateSize, type WireUpdate } from './wire.js';

interface Entry {
  update: WireUpdate;
  size: number;
  transmits: number;
  /** Enqueue order; newer first among equally-sent entries. */
  seq: number;
}

/**
 * Transmit-limited broadcast queue for piggybacked updates (memberlist's TransmitLimitedQueue
 * idea). Holds at most one update per node — a newer claim about a node replaces the older one
 * and starts with zero transmissions. {@link take} fills a byte budget with the least-sent
 * entries first (newest first among equals) and retires an entry once it has been sent
 * `limit` times, so each update costs a bounded number of piggybacks, not a broadcast.
 *
 * Not thread-safe by design: the detector calls it from the event loop only.
 */
export class BroadcastQueue {
  readonly #entries = new Map<string, Entry>();
  #seq = 0;

  /** Queues `update`, replacing any pending update about the same node. */
  enqueue(update: WireUpdate): void {
    this.#entries.set(update.node, { update, size: encodedUpdateSize(update), transmits: 0, seq: this.#seq++ });
  }

  /** Forgets any pending update about `node` (e.g. it was removed from the member list). */
  remove(node: string): void {
    this.#entries.delete(node);
  }

  /** Pending updates. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Up to `maxBytes` of updates (encoded size), least-sent first, skipping nodes in `skip`.
   * Each returned entry counts one transmission; entries reaching `limit` leave the queue.
   */
  take(maxBytes: number, limit: number, skip: ReadonlySet<string> = new Set()): WireUpdate[] {
    if (maxBytes <= 0 || this.#entries.size === 0) return [];
    const ordered = [...this.#entries.values()].sort((a, b) => a.transmits - b.transmits || b.seq - a.seq);
    const out: WireUpdate[] = [];
    let used = 0;
    for (const entry of ordered) {
      if (skip.has(entry.update.node)) continue;
      if (used + entry.size > maxBytes) continue;
      used += entry.size;
      out.push(entry.update);
      entry.transmits++;
      if (entry.transmits >= limit) this.#entries.delete(entry.update.node);
    }
    return out;
  }
}
