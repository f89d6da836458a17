/**
 * A {@link RoleDriver} for the simulator: performs nothing, records every call with virtual
 * timestamps, takes a configurable virtual time per call, and fails on demand. Control-plane
 * changes answer what a healthy cluster would: the member list after the change. Given a
 * {@link FakeDriverDisk} it also models what a real control plane keeps on the node's disk (an
 * etcd member's data dir): a manager role holds only where a bootstrap or promote left member
 * data, and a node whose disk was wiped finds none. Given the fleet's {@link FakeControlPlane} too,
 * it keeps that cluster's own member list as etcd does: a change acts on the cluster the other
 * members' data belongs to and returns its member list, and a member removed while it was down
 * finds so when it starts on its old data (its manager role fails; the data is moved aside).
 */
import type { Clock } from '../../src/seams/clock.js';
import { isManagerRole, type Role } from '../../src/policy/types.js';
import { membersAfter, quorumOf, type ControlPlaneChange } from '../../src/roles/control-plane-plan.js';
import type { RoleDriver } from '../../src/roles/driver.js';
import type { ClusterIncarnation, FakeControlPlane } from './fake-control-plane.js';
import type { Trace, TraceDetails } from './trace.js';

/** What a call does: `ensure`, or the kind of control-plane change. */
export type DriverCallKind = 'ensure' | ControlPlaneChange['kind'];
export const DRIVER_CALL_KINDS: readonly DriverCallKind[] = ['ensure', 'bootstrap', 'promote', 'demote', 'remove'];

/** One call as the fake saw it. */
export type DriverCall = { readonly kind: 'ensure'; readonly role: Role } | { readonly kind: 'control-plane'; readonly change: ControlPlaneChange };

/** One call and how it ended. */
export type DriverAction = DriverCall & {
  /** Virtual time the call started / settled. */
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly outcome: 'ok' | 'failed' | 'aborted';
  /** The failure message, for `failed`. */
  readonly error?: string;
};

/** What the control plane keeps on a node's disk; survives restarts, not a wiped disk. */
export interface FakeDriverDisk {
  /** Set by a successful bootstrap or promote of this node, cleared by its demote. */
  memberData: boolean;
  /** Which cluster that member data belongs to, where the control-plane software is modelled. */
  cluster?: ClusterIncarnation;
}

/** The control-plane software, fleet-wide (FakeDriverInit.software). */
export interface FakeSoftware {
  controlPlane: FakeControlPlane;
  /** A node's disk as it is now (undefined for a node the fleet does not know). */
  diskOf(node: string): FakeDriverDisk | undefined;
}

export interface FakeDriverInit {
  clock: Clock;
  /** This node's disk; without one every manager role holds (no member state is modelled). @default none */
  disk?: FakeDriverDisk;
  /**
   * How many of `members` serve now (up, with member data). Given, a change to an existing
   * control plane fails when they are no quorum of it, as etcd refuses a membership change
   * without one. @default every change succeeds
   */
  serving?: (members: readonly string[]) => number;
  /**
   * The control-plane software's own member lists (needs `disk`). @default not modelled: a change
   * returns the members after it as the caller passed them
   */
  software?: FakeSoftware;
  /** Node id, for the trace. @default '' */
  node?: string;
  /** Virtual time each call takes before it settles. @default 0 */
  durationMs?: number;
  /** Records `driver:ensure` / `driver:control-plane` events. @default none */
  trace?: Trace;
  /**
   * Called synchronously when a call starts, before any virtual time passes — the moment a
   * checker must judge it (e.g. who the actor could reach). `members` is the control plane the
   * caller passed, for control-plane changes. @default none
   */
  onCall?: (call: DriverCall, members: readonly string[] | undefined) => void;
}

/** Decides whether one call fails: a reason to fail with, or undefined to succeed. `index` counts calls from 0. */
export type FailureRule = (call: DriverCall, index: number) => string | undefined;

/**
 * A node whose control-plane software cannot run (a read-only data disk, a port taken): the
 * calls of `kinds` fail with `reason` — an `ensure` only of a manager role, since its workload
 * part still runs.
 */
export function brokenSoftware(kinds: readonly DriverCallKind[], reason: string): FailureRule {
  return (call) => {
    const kind = call.kind === 'ensure' ? 'ensure' : call.change.kind;
    if (!kinds.includes(kind) || (call.kind === 'ensure' && !isManagerRole(call.role))) return undefined;
    return reason;
  };
}

/** The failure a {@link FakeDriver} was told to produce. */
export class InjectedDriverFailure extends Error {
  override readonly name = 'InjectedDriverFailure';
  constructor(readonly call: DriverCall, reason: string) {
    super(`${call.kind === 'ensure' ? `ensure ${call.role}` : `${call.change.kind} ${call.change.node}`}: ${reason}`);
  }
}

/** A control-plane change the modelled cluster cannot commit (FakeDriverInit.serving). */
export class NoQuorumError extends Error {
  override readonly name = 'NoQuorumError';
  constructor(readonly change: ControlPlaneChange, reason: string) {
    super(`${change.kind} ${change.node}: ${reason}`);
  }
}

/** A control-plane change the modelled software cannot make (FakeDriverInit.software): no member to act through, or a member that was removed. */
export class ControlPlaneSoftwareError extends Error {
  override readonly name = 'ControlPlaneSoftwareError';
}

/**
 * Concurrency contract: as {@link RoleDriver} — the role controller makes one call at a time;
 * the fake does not check. Failure injection is consulted when a call settles (after
 * `durationMs`): first the queued one-shot failures (`failNext`), then the rule (`failWhen`),
 * then what the modelled cluster refuses (no quorum serving; with the software modelled, no
 * member to act through, or a member data dir its cluster removed — which is moved aside).
 * Otherwise a failed call changes nothing (`role` keeps its value).
 */
export class FakeDriver implements RoleDriver {
  readonly #clock: Clock;
  readonly #node: string;
  readonly #durationMs: number;
  readonly #trace: Trace | undefined;
  readonly #onCall: FakeDriverInit['onCall'];
  readonly #actions: DriverAction[] = [];
  readonly #queued: string[] = [];
  #rule: FailureRule | undefined;
  #role: Role | undefined;
  #calls = 0;
  readonly #disk: FakeDriverDisk | undefined;
  readonly #serving: FakeDriverInit['serving'];
  readonly #software: FakeSoftware | undefined;

  constructor(init: FakeDriverInit) {
    this.#clock = init.clock;
    this.#disk = init.disk;
    this.#serving = init.serving;
    this.#software = init.disk === undefined ? undefined : init.software;
    this.#node = init.node ?? '';
    this.#durationMs = init.durationMs ?? 0;
    this.#trace = init.trace;
    this.#onCall = init.onCall;
  }

  /** A manager role without member data holds only its workload part, as etcd starts nothing then. */
  async ensure(role: Role, context: { signal?: AbortSignal } = {}): Promise<void> {
    const removed = (): Error | undefined => {
      if (!isManagerRole(role) || this.#moveRemovedDataAside() === undefined) return undefined;
      return new ControlPlaneSoftwareError(`ensure ${role}: this member was removed from the cluster while it was away; its data was moved aside (it rejoins through promote)`);
    };
    await this.#perform({ kind: 'ensure', role }, context.signal, undefined, removed);
    this.#role = isManagerRole(role) && this.#disk?.memberData === false ? (role === 'manager+worker' ? 'worker' : 'none') : role;
  }

  async changeControlPlane(change: ControlPlaneChange, members: readonly string[], context: { signal?: AbortSignal } = {}): Promise<string[]> {
    // Judged when the change would commit, after its duration.
    const noQuorum = (): Error | undefined => {
      const serving = change.kind === 'bootstrap' || this.#serving === undefined ? undefined : this.#serving(members);
      return serving !== undefined && serving < quorumOf(members.length) ? new NoQuorumError(change, `${serving} of ${members.length} control-plane members serve: no quorum for a membership change`) : undefined;
    };
    let cluster: ClusterIncarnation | undefined;
    const refusal = (): Error | undefined => {
      const refused = noQuorum();
      if (refused !== undefined || this.#software === undefined) return refused;
      const found = this.#clusterFor(change, members);
      if (typeof found === 'string') return new ControlPlaneSoftwareError(`${change.kind} ${change.node}: ${found}`);
      cluster = found;
      return undefined;
    };
    await this.#perform({ kind: 'control-plane', change }, context.signal, members, refusal);
    if (this.#disk !== undefined && change.node === this.#node) {
      if (change.kind === 'bootstrap' || change.kind === 'promote') this.#disk.memberData = true;
      if (change.kind === 'demote') this.#disk.memberData = false;
    }
    if (this.#software === undefined) return membersAfter(change, members);
    return this.#commit(this.#software.controlPlane, change, cluster);
  }

  /** The modelled cluster's change (after the disk's member data was updated above); its member list. */
  #commit(software: FakeControlPlane, change: ControlPlaneChange, cluster: ClusterIncarnation | undefined): string[] {
    const disk = this.#disk!;
    switch (change.kind) {
      case 'bootstrap':
        // A node with member data restarts it (as the etcd driver does); otherwise a new cluster.
        disk.cluster = cluster ?? software.bootstrap(this.#node);
        return software.members(disk.cluster);
      case 'promote':
        software.join(cluster!, this.#node);
        disk.cluster = cluster!;
        return software.members(cluster!);
      case 'demote':
        if (cluster !== undefined) software.leave(cluster, this.#node);
        delete disk.cluster;
        return cluster === undefined ? [] : software.members(cluster);
      case 'remove':
        software.leave(cluster!, change.node);
        return software.members(cluster!);
    }
  }

  /**
   * The cluster a change acts on, or why it cannot be made: a bootstrap on member data restarts
   * that data's cluster (and fails where the cluster removed this member: etcd exits, and the
   * data is moved aside, so the next bootstrap starts a new cluster); a demote
   * leaves this node's own cluster; a promote or remove goes through the other members, to the
   * cluster most of those with member data of it belong to.
   */
  #clusterFor(change: ControlPlaneChange, members: readonly string[]): ClusterIncarnation | undefined | string {
    const { controlPlane, diskOf } = this.#software!;
    const disk = this.#disk!;
    if (change.kind === 'bootstrap') {
      const removedBy = this.#moveRemovedDataAside();
      if (removedBy !== undefined) return `this node's member data is of cluster ${removedBy}, which removed it: etcd exits, and the data was moved aside`;
      return disk.memberData ? disk.cluster : undefined;
    }
    const own = disk.memberData ? disk.cluster : undefined;
    if (change.kind === 'demote') return controlPlane.isMember(own, this.#node) ? own : undefined;
    const through = change.kind === 'remove' && controlPlane.isMember(own, this.#node) ? [this.#node] : members.filter((m) => m !== this.#node && m !== change.node);
    const votes = new Map<ClusterIncarnation, number>();
    for (const m of through) {
      const c = diskOf(m);
      if (c?.memberData === true && controlPlane.isMember(c.cluster, m)) votes.set(c.cluster!, (votes.get(c.cluster!) ?? 0) + 1);
    }
    const best = [...votes].sort(([a, x], [b, y]) => y - x || a - b)[0];
    return best?.[0] ?? `no member of [${members.join(', ')}] holds member data of a cluster to act through`;
  }

  /**
   * When this node's member data is of a cluster that no longer lists it (modelled software
   * only), etcd exits on it and the driver moves it aside: the disk then holds none. Returns
   * that cluster, or undefined when the data (or its absence) stands.
   */
  #moveRemovedDataAside(): ClusterIncarnation | undefined {
    const disk = this.#disk;
    if (this.#software === undefined || disk?.memberData !== true || this.#software.controlPlane.isMember(disk.cluster, this.#node)) return undefined;
    const cluster = disk.cluster;
    disk.memberData = false;
    delete disk.cluster;
    return cluster;
  }

  /** True without a disk; with one, whether it holds member data. */
  holdsSeat(): Promise<boolean> {
    return Promise.resolve(this.#disk?.memberData ?? true);
  }

  /** The next `count` calls fail with `reason`. */
  failNext(count = 1, reason = 'injected failure'): this {
    for (let i = 0; i < count; i++) this.#queued.push(reason);
    return this;
  }

  /** Every later call consults `rule` (after the one-shot failures); undefined clears it. */
  failWhen(rule: FailureRule | undefined): this {
    this.#rule = rule;
    return this;
  }

  /** Every call so far, oldest first. */
  get actions(): readonly DriverAction[] {
    return this.#actions;
  }

  /** The role the last successful `ensure` established, or undefined before any. */
  get role(): Role | undefined {
    return this.#role;
  }

  async #perform(call: DriverCall, signal: AbortSignal | undefined, members: readonly string[] | undefined, refusal: () => Error | undefined = () => undefined): Promise<void> {
    const index = this.#calls++;
    this.#onCall?.(call, members);
    const startedAt = this.#clock.now();
    const finish = (outcome: DriverAction['outcome'], error?: string): void => {
      this.#actions.push({ ...call, startedAt, finishedAt: this.#clock.now(), outcome, ...(error === undefined ? {} : { error }) });
      const what: TraceDetails = call.kind === 'ensure' ? { role: call.role } : { change: call.change.kind, node: call.change.node };
      this.#trace?.record(this.#node, `driver:${call.kind}`, { ...what, outcome, ...(error === undefined ? {} : { error }) });
    };
    try {
      signal?.throwIfAborted();
      if (this.#durationMs > 0) await this.#clock.sleep(this.#durationMs, signal === undefined ? {} : { signal });
    } catch (reason) {
      finish('aborted');
      throw reason;
    }
    const failure = this.#queued.shift() ?? this.#rule?.(call, index);
    if (failure !== undefined) {
      finish('failed', failure);
      throw new InjectedDriverFailure(call, failure);
    }
    const refused = refusal();
    if (refused !== undefined) {
      finish('failed', refused.message);
      throw refused;
    }
    finish('ok');
  }
}
