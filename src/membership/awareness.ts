/**
 * Lifeguard local health ("awareness"): a score in [0, max - 1]. Missed acks and nacks raise
 * it, successful probes lower it; the detector multiplies its probe interval and timeout by
 * `score + 1`, so a node that is itself overloaded slows down instead of accusing healthy peers.
 *
 * Single-threaded: used from the event loop only.
 */
export class Awareness {
  #score = 0;

  constructor(readonly maxMultiplier: number) {}

  /** Adds `delta` (may be negative), clamped to [0, maxMultiplier - 1]. */
  apply(delta: number): void {
    this.#score = Math.min(this.maxMultiplier - 1, Math.max(0, this.#score + delta));
  }

  get score(): number {
    return this.#score;
  }

  /** `ms` scaled by the current health: ms * (score + 1). */
  scale(ms: number): number {
    return ms * (this.#score + 1);
  }
}
