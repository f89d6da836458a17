import type { Clock, Timer } from '../seams/clock.js';
import { suspicionTimeoutMs, type SuspicionBounds } from './timing.js';

/**
 * One suspicion of one member at one incarnation, with Lifeguard's shrinking timeout: it
 * starts at `bounds.maxMs` and each independent confirmation (a suspect claim from a node that
 * has not confirmed yet) moves the deadline toward `bounds.minMs`, measured from the start.
 * `onExpire` runs once, from a Clock timer, unless {@link cancel} runs first.
 *
 * Single-threaded: used from the event loop only.
 */
export class Suspicion {
  readonly startedAt: number;
  readonly #confirmers = new Set<string>();
  #timer: Timer | undefined;
  #done = false;

  constructor(
    readonly incarnation: number,
    /** The node that raised the suspicion; its repeats are not confirmations. */
    readonly originator: string,
    readonly bounds: SuspicionBounds,
    private readonly clock: Clock,
    private readonly onExpire: () => void,
  ) {
    this.startedAt = clock.now();
    this.#confirmers.add(originator);
    this.#schedule();
  }

  /** Independent confirmations so far (the originator not counted). */
  get confirmations(): number {
    return this.#confirmers.size - 1;
  }

  /** Absolute time the suspicion expires at, given the confirmations so far. */
  get deadline(): number {
    return this.startedAt + suspicionTimeoutMs(this.bounds, this.confirmations);
  }

  /**
   * Records a suspicion of the same member by `from`. True if it was new (the caller then
   * re-gossips it); false for repeats, the originator, or once expired/cancelled.
   */
  confirm(from: string): boolean {
    if (this.#done || this.#confirmers.has(from)) return false;
    if (this.confirmations >= this.bounds.expectedConfirmations) return false;
    this.#confirmers.add(from);
    this.#schedule();
    return true;
  }

  cancel(): void {
    this.#done = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer?.cancel();
    this.#timer = this.clock.setTimer(this.deadline - this.clock.now(), () => {
      if (this.#done) return;
      this.#done = true;
      this.onExpire();
    });
  }
}
