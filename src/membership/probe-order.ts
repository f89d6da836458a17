import { shuffled, type Random } from '../seams/random.js';

/**
 * SWIM's randomized round-robin: each round visits every probe candidate once, in an order
 * reshuffled (with the injected Random) at the start of the round. A member is therefore
 * probed by this node at least once every 2 rounds, and the first node to probe a failed member
 * is spread uniformly over the fleet.
 *
 * Single-threaded: used from the event loop only.
 */
export class ProbeOrder {
  #round: string[] = [];
  #index = 0;
  /** The last candidate list seen and its set (callers pass the same array until it changes). */
  #candidates: readonly string[] = [];
  #eligible = new Set<string>();

  constructor(private readonly random: Random) {}

  /**
   * The next member to probe among `candidates` (sorted, so the order depends only on the
   * seed), or undefined when there is none. Members that stopped being candidates mid-round
   * are skipped; new ones join at the next reshuffle.
   */
  next(candidates: readonly string[]): string | undefined {
    if (candidates.length === 0) return undefined;
    if (candidates !== this.#candidates) {
      this.#candidates = candidates;
      this.#eligible = new Set(candidates);
    }
    const eligible = this.#eligible;
    for (let reshuffles = 0; reshuffles < 2; ) {
      if (this.#index >= this.#round.length) {
        this.#round = shuffled(this.random, candidates);
        this.#index = 0;
        reshuffles++;
      }
      const id = this.#round[this.#index++];
      if (id !== undefined && eligible.has(id)) return id;
    }
    return undefined;
  }
}
