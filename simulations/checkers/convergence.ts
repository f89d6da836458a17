/**
 * Liveness: after the last fault has healed, every live node reaches the same document heads
 * and the same assignment within the scenario's bound, the recorded control plane is the
 * policy's managers, and the drivers reflect it — and it stays that way to the end of the run.
 */
import type { Checker, CheckContext } from './checker.js';
import { ViolationLog } from './checker.js';
import type { ConvergenceState } from './fleet-view.js';

export class ConvergenceChecker implements Checker {
  readonly name = 'convergence';
  readonly #log = new ViolationLog(this.name);
  /** First sample at or after quietAt at which the fleet had converged. */
  convergedAt: number | undefined;
  #lastState: ConvergenceState | undefined;
  #reportedLate = false;
  get violations() {
    return this.#log.violations;
  }

  sample(ctx: CheckContext): void {
    if (ctx.phase() !== 'healed') return;
    const now = ctx.fleet.now;
    const state = ctx.convergence();
    this.#lastState = state;
    if (this.convergedAt === undefined) {
      if (state.converged) this.convergedAt = now;
      else if (!this.#reportedLate && now > ctx.quietAt + ctx.convergeWithinMs) {
        this.#reportedLate = true;
        this.#log.report(now, `not converged ${ctx.convergeWithinMs} ms after the last fault (${ctx.quietAt} ms): ${state.reason}`);
      }
    }
  }

  finish(ctx: CheckContext): void {
    const state = ctx.convergence();
    if (this.convergedAt !== undefined && !state.converged) this.#log.report(ctx.fleet.now, `converged at ${this.convergedAt} ms, diverged again by the end: ${state.reason}`);
    if (this.convergedAt === undefined && !this.#reportedLate) {
      this.#log.report(ctx.fleet.now, `never converged after the last fault (${ctx.quietAt} ms; the run ended ${ctx.fleet.now - ctx.quietAt} ms later): ${(this.#lastState ?? state).reason}`);
    }
  }
}
