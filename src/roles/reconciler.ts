/**
 * Should this node act now? The safety gates between "the policy says my role is X" and
 * "my driver makes it so" (DESIGN.md §7):
 *
 *  1. Converged: the node's document matches every peer it can reach, so it decides on the
 *     same input as they do.
 *  2. Stable: the evaluation input has not changed for the policy's stabilization window, so
 *     a flapping view never moves the control plane (and no role changes twice in a window).
 *  3. Its turn: control-plane changes are serialized by `planControlPlaneChanges`; only the
 *     actor of the first pending change acts, and nobody acts while another node's change is
 *     recorded as in flight.
 *  4. Quorum: the actor reaches a majority of the recorded control-plane members. A node that
 *     cannot is in a minority partition and makes no control-plane change — no split brain.
 *
 * Workload-only changes (worker <-> none, manager <-> manager+worker) need only gate 2: they
 * touch nothing other nodes depend on, and are re-decided whenever the view changes. The role
 * controller runs gate 1 as an active sync round, and then gate 4 again with only the members
 * that answered it (docs/ARCHITECTURE.md, "Role decisions and their gates").
 * Pure function of its input: the daemon and the simulator call it with the same shapes.
 */
import type { Assignment, Role } from '../policy/types.js';
import { planControlPlaneChanges, quorumOf, servingMembers, unplannedRejoins, type ControlPlaneChange } from './control-plane-plan.js';

export interface ReconcileInput {
  self: string;
  now: number;
  assignment: Assignment;
  /** The role this node performs now (recorded by itself), or null before its first role. */
  currentRole: Role | null;
  /** Recorded control-plane members (dead or alive). */
  controlPlane: readonly string[];
  /** Ids the evaluation considered alive. */
  alive: ReadonlySet<string>;
  /** Peers this node can reach now (itself included). */
  reachable: ReadonlySet<string>;
  /** Whether this node's document matches every reachable peer's (gates control-plane changes only). */
  converged: boolean;
  /** When the evaluation input last changed. */
  viewChangedAt: number;
  stabilizationMs: number;
  /** Control-plane changes other live nodes have recorded as started and not finished. */
  inFlight: readonly { node: string; change: ControlPlaneChange }[];
  /** Members that recorded they lost their member state and must rejoin (ClusterView.seatLost). @default none */
  seatLost?: readonly string[];
  /** Members not to choose as the actor of a remove while another can be (ClusterView.failingActors). @default none */
  failingActors?: readonly string[];
}

export type Decision =
  | { kind: 'idle'; reason: string }
  | { kind: 'wait'; reason: string; until?: number }
  | { kind: 'minority'; reason: string; reachableMembers: number; members: number }
  | { kind: 'control-plane'; change: ControlPlaneChange; thenRole: Role }
  | { kind: 'workload'; from: Role | null; to: Role };

export function decide(input: ReconcileInput): Decision {
  const desired = input.assignment.nodes.find((n) => n.id === input.self)?.role ?? 'none';
  const view = {
    members: input.controlPlane,
    alive: input.alive,
    ...(input.seatLost === undefined ? {} : { seatLost: input.seatLost }),
    ...(input.failingActors === undefined ? {} : { failingActors: input.failingActors }),
  };
  const plan = planControlPlaneChanges(input.assignment, view);
  const mine = plan.find((c) => c.actor === input.self);
  if (!mine && unplannedRejoins(view).includes(input.self)) {
    return {
      kind: 'wait',
      reason: `this node's seat lost its member state and ${servingMembers(view).length} of ${input.controlPlane.length} control-plane members still serve (a quorum is ${quorumOf(input.controlPlane.length)}): the control plane cannot take it back; recovering it needs a person (docs/OPERATIONS.md)`,
    };
  }
  const workloadOnly = !mine && input.currentRole !== desired;
  if (!mine && !workloadOnly) return { kind: 'idle', reason: `role ${desired} matches the policy` };

  const stableAt = input.viewChangedAt + input.stabilizationMs;
  if (input.now < stableAt) return { kind: 'wait', reason: `view changed ${input.now - input.viewChangedAt}ms ago; stabilizing`, until: stableAt };

  // No control-plane change of this node's is pending, so only the workload part differs.
  if (!mine) return { kind: 'workload', from: input.currentRole, to: desired };

  if (!input.converged) return { kind: 'wait', reason: 'document not yet converged with reachable peers' };

  const first = plan[0]!;
  if (first !== mine) return { kind: 'wait', reason: `one change at a time: waiting for ${describe(first)}` };
  const other = input.inFlight.find((f) => f.node !== input.self && input.alive.has(f.node));
  if (other) return { kind: 'wait', reason: `one change at a time: ${describe(other.change)} is in flight` };

  if (mine.kind !== 'bootstrap') {
    const members = new Set(input.controlPlane);
    const reachableMembers = [...members].filter((m) => input.reachable.has(m)).length;
    if (reachableMembers < quorumOf(members.size)) {
      return {
        kind: 'minority',
        reason: `reaches ${reachableMembers} of ${members.size} control-plane members (needs ${quorumOf(members.size)}): no control-plane change from a minority`,
        reachableMembers,
        members: members.size,
      };
    }
  }
  const thenRole: Role = mine.node === input.self ? desired : (input.currentRole ?? desired);
  return { kind: 'control-plane', change: mine, thenRole };
}

export function describe(change: ControlPlaneChange): string {
  return change.actor === change.node ? `${change.kind} of ${change.node}` : `${change.kind} of ${change.node} by ${change.actor}`;
}
