/**
 * Invariant: nodes with equal inputs compute identical assignments. Nodes whose documents have
 * the same heads and whose active policy is the same must get the same `assignment.managers`
 * (and the same role for every node) from their own evaluation pipeline.
 */
import type { Checker, CheckContext } from './checker.js';
import { ViolationLog } from './checker.js';
import { assignmentFromDoc, headsKey } from './fleet-view.js';
import type { SimFleetNode } from '../fleet/sim-fleet.js';

/** Groups compared per sample (the largest first): bounds the cost at 1,000 nodes. */
const GROUPS_PER_SAMPLE = 4;

export class IdenticalAssignmentsChecker implements Checker {
  readonly name = 'identical-assignments';
  readonly #log = new ViolationLog(this.name);
  get violations() {
    return this.#log.violations;
  }

  sample(ctx: CheckContext): void {
    const groups = new Map<string, SimFleetNode[]>();
    for (const n of ctx.fleet.liveNodes()) {
      const key = `${headsKey(n.node!)}|${n.node!.policies.active()?.key ?? ''}`;
      const g = groups.get(key);
      if (g === undefined) groups.set(key, [n]);
      else g.push(n);
    }
    const compared = [...groups.values()].filter((g) => g.length > 1).sort((a, b) => b.length - a.length || (a[0]!.id < b[0]!.id ? -1 : 1)).slice(0, GROUPS_PER_SAMPLE);
    for (const g of compared) {
      const a = g[0]!;
      const b = g[g.length - 1]!;
      const x = assignmentFromDoc(a.node!);
      const y = assignmentFromDoc(b.node!);
      if (x === undefined || y === undefined) continue;
      const rx = x.assignment.nodes.map((n) => `${n.id}=${n.role}`).join(',');
      const ry = y.assignment.nodes.map((n) => `${n.id}=${n.role}`).join(',');
      if (x.assignment.managers.join() !== y.assignment.managers.join() || rx !== ry) {
        this.#log.report(ctx.fleet.now, `${a.id} and ${b.id} hold equal document heads and policy but compute managers [${x.assignment.managers.join(', ')}] vs [${y.assignment.managers.join(', ')}]`);
      }
    }
  }
}
