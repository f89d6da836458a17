/**
 * The evaluation input a node derives from its copy of the cluster document: who is a member,
 * who is alive, what role each holds, and the recorded control plane. Pure: nodes whose
 * documents converged derive identical views (and identical digests), which is what makes
 * their evaluations agree.
 *
 * Liveness comes only from the document (confirmed verdicts), never from a node's local
 * suspicion, so it converges with the document. A member is alive unless it left, or a
 * `down`/`left` verdict covers its current incarnation (a refutation raises the member's own
 * incarnation above the verdict's, whichever record wins a concurrent write).
 */
import { createHash } from 'node:crypto';
import { compareIds } from '../policy/evaluate.js';
import { isManagerRole, type MemberView, type Role } from '../policy/types.js';
import type { Member, RoleRecord, Verdict } from '../state/schema.js';
import type { ControlPlaneChange } from './control-plane-plan.js';
import { CHANGING_PHASE, parseInFlight, SEAT_LOST_PHASE, type ControlPlaneRecord } from './control-plane-record.js';

export interface ClusterViewInput {
  members: readonly Member[];
  verdicts: Readonly<Record<string, Verdict>>;
  roles: Readonly<Record<string, RoleRecord>>;
  controlPlane: ControlPlaneRecord;
  /** Identifies the active policy, so a policy change is a view change. */
  policyKey: string;
}

export interface ClusterView {
  /** Members as `evaluate` sees them, sorted by id (members that left are omitted). */
  members: MemberView[];
  alive: Set<string>;
  controlPlane: string[];
  inFlight: { node: string; change: ControlPlaneChange }[];
  /** Control-plane members whose own record says they lost their member state (SEAT_LOST_PHASE), sorted. */
  seatLost: string[];
  /** Control-plane members whose driver failed FAILED_CHANGES_TO_PASS_OVER changes in a row, sorted: not chosen to remove dead members. */
  failingActors: string[];
  /** sha256 of the policy key and the members' facts, labels and liveness (not roles). */
  digest: string;
}

/**
 * A node whose driver failed this many control-plane changes in a row (its role record's
 * `failedChanges`) is passed over: outside the control plane, for a new seat — a machine that
 * cannot run the control plane (a read-only disk, a port taken) would otherwise be handed the
 * free seat again and again, and the fleet would stay a manager short with no one on site to
 * notice; inside it, as the member that removes dead ones, while another live member can. That
 * takes the three attempts plus the role loop's waits between them (5 + 10 s at the defaults).
 * The count starts over when the node restarts, which is what a repair involves.
 */
export const FAILED_CHANGES_TO_PASS_OVER = 3;

export function isAlive(member: Member, verdict: Verdict | undefined): boolean {
  if (member.leftAt !== null) return false;
  if (verdict === undefined || verdict.status === 'alive') return true;
  return verdict.incarnation < member.incarnation;
}

export function buildClusterView(input: ClusterViewInput): ClusterView {
  const inControlPlane = new Set(input.controlPlane.members);
  const members: MemberView[] = [...input.members]
    .filter((m) => m.leftAt === null || inControlPlane.has(m.id))
    .sort((a, b) => compareIds(a.id, b.id))
    .map((m) => ({
      id: m.id,
      facts: { ...m.facts },
      labels: { ...m.labels },
      alive: isAlive(m, input.verdicts[m.id]),
      role: currentRole(inControlPlane.has(m.id), input.roles[m.id]),
      ...((input.roles[m.id]?.failedChanges ?? 0) >= FAILED_CHANGES_TO_PASS_OVER && !inControlPlane.has(m.id) ? { passedOver: true } : {}),
    }));
  const alive = new Set(members.filter((m) => m.alive).map((m) => m.id));
  const inFlight = Object.entries(input.roles)
    .filter(([, r]) => r.phase === CHANGING_PHASE)
    .flatMap(([node, r]) => {
      const change = parseInFlight(r.detail);
      return change ? [{ node, change }] : [];
    })
    .sort((a, b) => compareIds(a.node, b.node));
  const controlPlane = [...input.controlPlane.members];
  const seatLost = controlPlane.filter((id) => input.roles[id]?.phase === SEAT_LOST_PHASE).sort(compareIds);
  const failingActors = controlPlane.filter((id) => (input.roles[id]?.failedChanges ?? 0) >= FAILED_CHANGES_TO_PASS_OVER).sort(compareIds);
  // Only membership, liveness and policy restart the stabilization window: PACE's own role
  // and control-plane records change as a result of decisions, and waiting a window after
  // each of them would only slow a multi-step change down.
  const digest = createHash('sha256')
    .update(JSON.stringify({ policy: input.policyKey, members: members.map(({ role: _role, ...rest }) => rest) }))
    .digest('hex');
  return { members, alive, controlPlane, inFlight, seatLost, failingActors, digest };
}

/** The recorded control plane decides who holds a seat; the node's own record the rest. */
function currentRole(seated: boolean, record: RoleRecord | undefined): Role | null {
  if (seated) return record?.role === 'manager+worker' ? 'manager+worker' : 'manager';
  if (record === undefined) return null;
  // A node that still claims a seat the control plane no longer records holds none.
  return isManagerRole(record.role) ? null : record.role;
}
