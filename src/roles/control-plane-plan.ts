/**
 * The ordered list of control-plane changes that take the recorded control plane to the
 * evaluated assignment. Pure: every node with the same view computes the same list, and only
 * the actor of the FIRST change may act — which serializes control-plane changes without a
 * leader or a lock (DESIGN.md §7, "no other control-plane change in flight").
 *
 * Order: remove dead members first (quorum is computed over the recorded members, so a dead
 * member counts against it until removed), then demote live members that lost their seat,
 * then rejoin live members that keep their seat but lost their member state (a promote of a
 * node already recorded: the driver replaces its stale membership, e.g. etcd `member remove`
 * and `member add` again), then promote in seat order (the first seat of an empty control
 * plane bootstraps it).
 */
import { compareIds } from '../policy/evaluate.js';
import type { Assignment } from '../policy/types.js';

export type ControlPlaneChange =
  /** The control plane is empty: `node` initializes it (e.g. etcd --initial-cluster-state new). */
  | { kind: 'bootstrap'; node: string; actor: string }
  /** `node` joins the existing control plane (e.g. etcd member add as learner, then promote). */
  | { kind: 'promote'; node: string; actor: string }
  /** `node` is alive but lost its seat: it leaves the control plane itself, gracefully. */
  | { kind: 'demote'; node: string; actor: string }
  /** `node` is dead: a live member (`actor`) removes it from the control plane. */
  | { kind: 'remove'; node: string; actor: string };

export interface ControlPlaneView {
  /** The recorded control-plane members (the driver's member list, dead or alive). */
  members: readonly string[];
  /** Ids the evaluation considered alive. */
  alive: ReadonlySet<string>;
  /** Members that recorded they lost their member state (ClusterView.seatLost). @default none */
  seatLost?: readonly string[];
  /** Members whose driver kept failing the changes they acted on (ClusterView.failingActors). @default none */
  failingActors?: readonly string[];
}

export function planControlPlaneChanges(assignment: Pick<Assignment, 'seatOrder'>, view: ControlPlaneView): ControlPlaneChange[] {
  const recorded = [...new Set(view.members)].sort(compareIds);
  const desired = new Set(assignment.seatOrder);
  const liveMembers = recorded.filter((m) => view.alive.has(m));
  const changes: ControlPlaneChange[] = [];

  // The remover: a live member keeping its seat, first by id — passing over one whose driver
  // kept failing the changes it acted on (etcdctl broken on that machine, say) while another
  // can act, or the fleet would retry the same failing remove forever.
  const failing = new Set(view.failingActors ?? []);
  const able = liveMembers.filter((m) => !failing.has(m));
  const remover = able.find((m) => desired.has(m)) ?? able[0] ?? liveMembers.find((m) => desired.has(m)) ?? liveMembers[0];
  for (const m of recorded) {
    if (desired.has(m) || view.alive.has(m)) continue;
    // With no live member left nobody can remove it: the control plane has lost quorum for
    // good and needs disaster recovery, which is reported, not guessed at.
    if (remover !== undefined) changes.push({ kind: 'remove', node: m, actor: remover });
  }
  for (const m of recorded) {
    if (!desired.has(m) && view.alive.has(m)) changes.push({ kind: 'demote', node: m, actor: m });
  }
  // A rejoin replaces a member of the control plane, which takes the quorum of those still
  // serving: without it (a single member lost its data, two of three did) the control plane's
  // data is gone with their disks, and getting it back needs a person (unplannedRejoins).
  const seatLost = new Set(view.seatLost ?? []);
  if (unplannedRejoins(view).length === 0) {
    for (const m of recorded) {
      if (desired.has(m) && view.alive.has(m) && seatLost.has(m)) changes.push({ kind: 'promote', node: m, actor: m });
    }
  }
  const current = new Set(recorded);
  for (const d of assignment.seatOrder) {
    if (current.has(d)) continue;
    const kind = current.size === 0 && changes.length === 0 ? 'bootstrap' : 'promote';
    changes.push({ kind, node: d, actor: d });
    current.add(d);
  }
  return changes;
}

/** Recorded members that serve: alive, and not seat-lost. */
export function servingMembers(view: ControlPlaneView): string[] {
  const seatLost = new Set(view.seatLost ?? []);
  return [...new Set(view.members)].filter((m) => view.alive.has(m) && !seatLost.has(m)).sort(compareIds);
}

/**
 * Seat-lost members the plan cannot rejoin: those still serving are no quorum of the recorded
 * control plane, so no member can be replaced — disaster recovery, reported and not attempted.
 */
export function unplannedRejoins(view: ControlPlaneView): string[] {
  const recorded = new Set(view.members);
  if (servingMembers(view).length >= quorumOf(recorded.size)) return [];
  return [...new Set(view.seatLost ?? [])].filter((m) => recorded.has(m)).sort(compareIds);
}

/** Managers needed for a majority of `members`. */
export function quorumOf(members: number): number {
  return Math.floor(members / 2) + 1;
}

/** The member list after `change`, for drivers with no cluster software to ask. */
export function membersAfter(change: ControlPlaneChange, members: readonly string[]): string[] {
  const next = new Set(members);
  if (change.kind === 'bootstrap') return [change.node];
  if (change.kind === 'promote') next.add(change.node);
  else next.delete(change.node);
  return [...next].sort(compareIds);
}
