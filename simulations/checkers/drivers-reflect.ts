/**
 * Invariant: the drivers reflect the assignment — a live node whose role record says `ready`
 * has a driver performing that role. A mismatch is allowed for a moment (a call in progress, a
 * restart re-establishing its role) but not for longer than `graceMs`.
 */
import type { Checker, CheckContext } from './checker.js';
import { ViolationLog } from './checker.js';

export class DriversReflectChecker implements Checker {
  readonly name = 'drivers-reflect';
  readonly #log = new ViolationLog(this.name);
  readonly #since = new Map<string, number>();
  readonly #reported = new Set<string>();
  constructor(private readonly graceMs = 10_000) {}
  get violations() {
    return this.#log.violations;
  }

  sample(ctx: CheckContext): void {
    const now = ctx.fleet.now;
    for (const n of ctx.fleet.nodes()) {
      const rec = n.node?.state.doc.roles()[n.id];
      const mismatch = n.status === 'up' && rec !== undefined && rec.phase === 'ready' && n.driver?.role !== rec.role;
      if (!mismatch) {
        this.#since.delete(n.id);
        this.#reported.delete(n.id);
        continue;
      }
      const since = this.#since.get(n.id) ?? now;
      this.#since.set(n.id, since);
      if (now - since > this.graceMs && !this.#reported.has(n.id)) {
        this.#reported.add(n.id);
        this.#log.report(now, `${n.id} recorded role ${rec.role} (ready) since at least ${since} ms but its driver performs ${n.driver?.role ?? 'nothing'}`, n.id);
      }
    }
  }
}
