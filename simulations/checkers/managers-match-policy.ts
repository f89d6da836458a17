/**
 * Invariant: after the fleet converges, the managers are exactly `evaluate(policy, view)` — the
 * count the policy asks for, from eligible live nodes — and the scenario's expected outcome
 * holds (how many managers; which nodes must be among them).
 */
import { isManagerRole } from '../../src/policy/types.js';
import type { Checker, CheckContext } from './checker.js';
import { ViolationLog } from './checker.js';
import { recordedControlPlane } from './fleet-view.js';

export interface ExpectedOutcome {
  managers?: number;
  managerNodes?: string[];
}

export class ManagersMatchPolicyChecker implements Checker {
  readonly name = 'managers-match-policy';
  readonly #log = new ViolationLog(this.name);
  constructor(private readonly expected: ExpectedOutcome) {}
  get violations() {
    return this.#log.violations;
  }

  finish(ctx: CheckContext): void {
    const state = ctx.convergence();
    const now = ctx.fleet.now;
    const live = ctx.fleet.liveNodes();
    if (!state.converged || state.assignment === undefined || live.length === 0) return; // the convergence checker reports that
    const a = state.assignment;
    const cp = recordedControlPlane(live[0]!.node!);
    if (cp.join() !== a.managers.join()) this.#log.report(now, `recorded control plane [${cp.join(', ')}] differs from evaluate(policy, view) = [${a.managers.join(', ')}]`);
    if (a.managers.length !== a.target) this.#log.report(now, `the policy asks for ${a.target} managers (${a.eligibleLive} eligible), the fleet has ${a.managers.length}`);
    for (const m of a.managers) {
      const d = a.nodes.find((n) => n.id === m);
      if (d === undefined || !isManagerRole(d.role)) this.#log.report(now, `${m} holds a seat but evaluates to ${d?.role ?? 'nothing'}`, m);
    }
    if (this.expected.managers !== undefined && a.managers.length !== this.expected.managers) {
      this.#log.report(now, `expected ${this.expected.managers} managers, the converged fleet has ${a.managers.length} [${a.managers.join(', ')}]`);
    }
    for (const id of this.expected.managerNodes ?? []) {
      if (!a.managers.includes(id)) this.#log.report(now, `expected ${id} among the managers [${a.managers.join(', ')}]`, id);
    }
  }
}
