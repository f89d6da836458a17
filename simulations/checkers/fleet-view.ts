/**
 * Read-only views of a simulated fleet for checkers and metrics, built from node-visible state
 * only: a node's document (heads, members, verdicts, role records, the recorded control plane)
 * and its policy store — exactly what the node itself evaluates.
 */
import { evaluate } from '../../src/policy/evaluate.js';
import type { Assignment, Role } from '../../src/policy/types.js';
import { buildClusterView } from '../../src/roles/cluster-view.js';
import { CONTROL_PLANE_DRIVER, CONTROL_PLANE_KEY, parseControlPlane } from '../../src/roles/control-plane-record.js';
import type { PaceNode } from '../../src/node/create-node.js';
import type { SimFleet, SimFleetNode } from '../fleet/sim-fleet.js';

export function headsKey(node: PaceNode): string {
  return node.state.doc.heads().join(',');
}

export function recordedControlPlane(node: PaceNode): string[] {
  return parseControlPlane(node.state.doc.driverRecords(CONTROL_PLANE_DRIVER)[CONTROL_PLANE_KEY]).members;
}

/** What this node's own document and policy give: the same pipeline as its RoleController. */
export function assignmentFromDoc(node: PaceNode): { assignment: Assignment; alive: Set<string>; policyKey: string } | undefined {
  const active = node.policies.active();
  if (active === undefined) return undefined;
  const doc = node.state.doc;
  const controlPlane = parseControlPlane(doc.driverRecords(CONTROL_PLANE_DRIVER)[CONTROL_PLANE_KEY]);
  const view = buildClusterView({ members: doc.members(), verdicts: doc.verdicts(), roles: doc.roles(), controlPlane, policyKey: active.key });
  return { assignment: evaluate(active.policy, { members: view.members }), alive: view.alive, policyKey: active.key };
}

export function roleOf(assignment: Assignment, id: string): Role {
  return assignment.nodes.find((n) => n.id === id)?.role ?? 'none';
}

export interface ConvergenceState {
  converged: boolean;
  /** Why not, for reports. */
  reason: string;
  assignment?: Assignment;
  /** Share of live nodes holding the most common document heads. */
  headsAgreement: number;
}

/**
 * Whether the live fleet has converged: every live node holds the same document heads and
 * policy; the view marks exactly the live nodes alive; the recorded control plane is the
 * policy's managers; every live node recorded the role the policy gives it, `ready`; and its
 * driver performs that role.
 */
export function convergence(fleet: SimFleet): ConvergenceState {
  const live = fleet.liveNodes();
  if (live.length === 0) return { converged: false, reason: 'no live node', headsAgreement: 0 };
  const byHeads = new Map<string, SimFleetNode[]>();
  for (const n of live) {
    const key = headsKey(n.node!);
    const group = byHeads.get(key);
    if (group === undefined) byHeads.set(key, [n]);
    else group.push(n);
  }
  let largest = 0;
  for (const g of byHeads.values()) largest = Math.max(largest, g.length);
  const headsAgreement = largest / live.length;
  if (byHeads.size > 1) return { converged: false, reason: `${byHeads.size} different document heads among ${live.length} live nodes`, headsAgreement };
  const first = live[0]!.node!;
  const key = first.policies.active()?.key;
  const noPolicy = live.find((n) => n.node!.policies.active()?.key !== key);
  if (key === undefined || noPolicy !== undefined) return { converged: false, reason: `${noPolicy?.id ?? first.self} has a different (or no) active policy`, headsAgreement };
  const evaluated = assignmentFromDoc(first)!;
  const { assignment, alive } = evaluated;
  const liveIds = new Set(live.map((n) => n.id));
  for (const id of alive) if (!liveIds.has(id)) return { converged: false, reason: `${id} is down but alive in the document`, assignment, headsAgreement };
  for (const id of liveIds) if (!alive.has(id)) return { converged: false, reason: `${id} is up but not alive in the document`, assignment, headsAgreement };
  const cp = recordedControlPlane(first);
  if (cp.join() !== assignment.managers.join()) return { converged: false, reason: `recorded control plane [${cp.join(', ')}] is not the policy's managers [${assignment.managers.join(', ')}]`, assignment, headsAgreement };
  const roles = first.state.doc.roles();
  const given = new Map(assignment.nodes.map((d) => [d.id, d.role]));
  for (const n of live) {
    const want = given.get(n.id) ?? 'none';
    const rec = roles[n.id];
    if (rec === undefined || rec.role !== want || rec.phase !== 'ready') return { converged: false, reason: `${n.id} recorded ${rec ? `${rec.role} (${rec.phase})` : 'no role'}, the policy gives ${want}`, assignment, headsAgreement };
    if (n.driver?.role !== want) return { converged: false, reason: `${n.id}'s driver performs ${n.driver?.role ?? 'nothing'}, the policy gives ${want}`, assignment, headsAgreement };
  }
  const software = softwareDisagreement(fleet, cp);
  if (software !== undefined) return { converged: false, reason: software, assignment, headsAgreement };
  return { converged: true, reason: 'converged', assignment, headsAgreement };
}

/**
 * Why the control-plane software's own member list (FakeControlPlane) is not the control plane
 * PACE recorded, or undefined when it is: every recorded member holds member data of one
 * cluster, and that cluster lists exactly them.
 */
export function softwareDisagreement(fleet: SimFleet, recorded: readonly string[]): string | undefined {
  if (recorded.length === 0) return undefined;
  const clusters = new Set<number | undefined>();
  for (const id of recorded) {
    const disk = fleet.get(id).driverDisk;
    if (!disk.memberData) return `${id} is in the recorded control plane but holds no member data`;
    clusters.add(disk.cluster);
  }
  if (clusters.size > 1) return `the recorded control plane [${recorded.join(', ')}] holds member data of ${clusters.size} different clusters`;
  const [cluster] = clusters;
  const listed = cluster === undefined ? [] : fleet.controlPlane.members(cluster);
  if (listed.join() !== [...recorded].sort().join()) return `the control-plane software lists [${listed.join(', ')}] as members, PACE recorded [${recorded.join(', ')}]`;
  return undefined;
}
