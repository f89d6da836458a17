/**
 * createNode(): one PACE node — the replicated document, failure detection, the policy store,
 * the driver dispatcher and the role loop — assembled from seams. It is the only assembly of a
 * node: the daemon (`pace agent`) passes the real seams (libp2p mesh, FileStorage, SystemClock,
 * SystemRandom, the real drivers' registry); the simulator, tests and benchmarks pass theirs.
 * Nothing here reads the clock, randomness, disk or network except through them.
 *
 * Data flow: document changes → policy store sync, detector member list, role loop trigger;
 * detector verdicts → the document (a confirmed `down`, or this node's refutation), so every
 * node's evaluation input converges; detector status changes → role loop trigger (who is
 * reachable feeds the quorum gate).
 */
import { FailureDetector } from '../membership/detector.js';
import type { Verdict as DetectorVerdict } from '../membership/events.js';
import type { MembershipConfig } from '../membership/config.js';
import { DEFAULT_MEMBERSHIP_PROFILE, MEMBERSHIP_PROFILES } from '../membership/profiles.js';
import type { Mesh } from '../mesh/mesh.js';
import type { Facts, Member } from '../state/schema.js';
import type { Clock, Timer } from '../seams/clock.js';
import type { Random } from '../seams/random.js';
import type { Storage } from '../seams/storage.js';
import type { OperatorPublicKey } from '../signing/operator-key.js';
import { ClusterState, type ClusterStateInit } from '../state/cluster-state.js';
import type { StateLogger } from '../state/logger.js';
import type { DocHandles } from '../state/doc-handle.js';
import { PolicyStore } from './policy-store.js';
import { PolicyDriver } from './policy-driver.js';
import { ownMemberRecord } from './own-member.js';
import { rendezvousRank } from './rendezvous.js';
import type { DriverRegistry } from '../roles/driver.js';
import { RoleController, type RoleControllerConfig, type RoleControllerDeps } from '../roles/role-controller.js';

/** Delay that coalesces a burst of document changes into one member-list refresh. */
const MEMBER_REFRESH_MS = 20;
/** Nodes (first in rendezvous order) that write a `down` verdict at once; the rest stand by. */
const VERDICT_WRITERS = 2;
/** A standby writer waits this long per rank (up to MAX_STANDBY_STEPS) before writing. */
const VERDICT_STANDBY_STEP_MS = 250;
const MAX_STANDBY_STEPS = 40;
/** More concurrent heads than this make a node merge them (see ClusterDoc.mergeHeads). */
const MERGE_HEADS_ABOVE = 16;
/**
 * Nodes (first in rendezvous order) that merge concurrent heads: the first at once, the others
 * as standbys, each a step later and only if no merge covered the heads it saw. The rest never
 * merge: while a large fleet starts, heads stay above MERGE_HEADS_ABOVE however often they are
 * merged, and a standby cap shared by every rank beyond it made a 1,000-node fleet write ~900
 * merges in the same millisecond.
 */
const MERGE_RANKS = 4;
/** Longer than the longest gossip batch window, so a standby has applied the merge before it. */
const MERGE_STANDBY_STEP_MS = 1_000;

export interface NodeComponents {
  mesh: Mesh;
  storage: Storage;
  clock: Clock;
  random: Random;
  logger: StateLogger & { debug(obj: object, msg?: string): void };
  /** The drivers this node can run; the active policy names the one it uses (built on first use). */
  drivers: DriverRegistry;
  /** Where the document's handle lives: shared with the other nodes of a simulated fleet (never set by the daemon). */
  docHandles?: DocHandles;
  /** TEST ONLY (the simulator's broken-invariant test): see {@link RoleControllerDeps.testOnlyDecide}. */
  testOnlyDecide?: RoleControllerDeps['testOnlyDecide'];
}

export interface NodeInit {
  cluster: string;
  /** What this node says about itself in its member record. */
  member: { name: string; addresses: string[]; facts: Facts; labels: Record<string, string> };
  /** Addresses to advertise, read once the mesh listens (overrides member.addresses). */
  advertise?: () => string[];
  trustedKeys: readonly OperatorPublicKey[];
  membership?: MembershipConfig;
  /** Replication tuning. @default the sync interval of the default membership profile (lan) */
  replication?: Partial<Omit<ClusterStateInit, 'cluster'>>;
  roles?: Partial<RoleControllerConfig>;
}

export interface PaceNode {
  readonly self: string;
  readonly state: ClusterState;
  readonly detector: FailureDetector;
  readonly policies: PolicyStore;
  readonly roles: RoleController;
  /** Milliseconds (injected clock) when start() ran. */
  readonly startedAt: number;
  start(): Promise<void>;
  /** Announces a graceful leave: others re-evaluate at once instead of waiting for failure detection. */
  leave(): Promise<void>;
  /** Stops everything and flushes the document. Safe to call twice. */
  stop(): Promise<void>;
  /** Rewrites this node's own member record with new labels and facts (config reload). */
  updateSelf(fields: { labels: Record<string, string>; facts: Facts }): void;
}

export async function createNode(components: NodeComponents, init: NodeInit): Promise<PaceNode> {
  const { mesh, storage, clock, random, logger } = components;
  const state = await ClusterState.open(
    { mesh, storage, clock, random: random.fork('state'), logger, ...(components.docHandles === undefined ? {} : { docHandles: components.docHandles }) },
    { ...init.replication, cluster: init.cluster, syncIntervalMs: init.replication?.syncIntervalMs ?? MEMBERSHIP_PROFILES[DEFAULT_MEMBERSHIP_PROFILE].syncIntervalMs },
  );
  const doc = state.doc;
  const self = mesh.self;

  // A restart raises the incarnation (ownMemberRecord) and starts above any verdict about this
  // node, so it is alive again in every view; the detector counts on from the same number.
  const previous = doc.member(self);
  const verdict = doc.verdicts()[self];
  const incarnation = Math.max(ownMemberRecord(previous, init.member, clock.now()).incarnation, verdict && verdict.status !== 'alive' ? verdict.incarnation + 1 : 0);

  const detector = new FailureDetector({
    self,
    cluster: init.cluster,
    mesh,
    clock,
    random: random.fork('membership'),
    ...(init.membership ? { config: init.membership } : {}),
    logger,
    incarnation,
    // Probes carry the document's digest: a peer that answers with another one makes this node
    // sync with it at once (lost gossip is repaired within about a probe interval).
    stateDigest: () => state.replicator.stateDigest(),
  });
  const policies = new PolicyStore({ doc, trustedKeys: init.trustedKeys, logger });
  let advertised = { ...init.member };
  const advertisedAddresses = (): string[] => init.advertise?.() ?? advertised.addresses;
  const driver = new PolicyDriver(() => policies.active(), components.drivers, {
    self,
    cluster: init.cluster,
    logger,
    addresses: advertisedAddresses,
    memberAddresses: (id) => doc.member(id)?.addresses ?? [],
  });
  const roles = new RoleController(
    {
      doc,
      clock,
      logger,
      driver,
      activePolicy: () => policies.active(),
      reachable: () => reachableSet(),
      converged: (include) => state.replicator.checkConvergence({ include }),
      ...(components.testOnlyDecide === undefined ? {} : { testOnlyDecide: components.testOnlyDecide }),
    },
    init.roles,
  );

  const writeOwnMember = (fields: { leftAt: number | null; incarnation: number }): void => {
    const existing = doc.member(self);
    doc.writeOwnMember({ ...advertised, addresses: advertisedAddresses(), joinedAt: existing?.joinedAt ?? clock.now(), ...fields });
  };

  /** Raises this node's member record, and its verdict, to `inc`: alive in every view again. */
  const writeAlive = (inc: number): void => {
    writeOwnMember({ leftAt: null, incarnation: inc });
    doc.writeVerdict(self, { status: 'alive', incarnation: inc });
  };

  const onVerdict = (v: DetectorVerdict): void => {
    if (v.status === 'alive') {
      if (v.node !== self) return;
      // A refuted suspicion stays in the failure detector, as the suspicion did (DESIGN.md §3):
      // nobody has declared this node down, and the refutation travels the way the suspicion
      // did. Written into the document as well, every false suspicion cost two changes — on a
      // lossy link every few seconds, which moved the document faster than a convergence check
      // could confirm it (no control plane formed at 20 % loss). A refuted `down` or `left`
      // claim is raised in the document, where verdict writers look before writing, and so is
      // a `down` verdict that got written anyway (refuteRecordedDown).
      const recordedDown = doc.verdicts()[self]?.status === 'down';
      if (v.refuted === 'suspect' && !recordedDown) return;
      const own = doc.member(self);
      if (own && own.incarnation >= v.incarnation && !recordedDown) return;
      writeAlive(Math.max(v.incarnation, own?.incarnation ?? 0));
      return;
    }
    // The policy's failure grace: a confirmed failure is written only if the node is still
    // down when it ends (a node that comes back within it never disturbs the assignment).
    graceTimers.get(v.node)?.cancel();
    const graceMs = policies.active()?.policy.timing.failureGraceMs ?? 0;
    const stillDown = (): number | undefined => {
      const now = detector.status(v.node);
      return now !== undefined && now.status === 'down' ? now.incarnation : undefined;
    };
    graceTimers.set(
      v.node,
      clock.setTimer(graceMs, () => {
        graceTimers.delete(v.node);
        if (stillDown() === undefined) return;
        // Every node that sees the failure could write the verdict; the first few in
        // rendezvous order do, the rest stand by in rank order in case they cannot.
        const rank = rendezvousRank(`down:${v.node}`, self, reachableIds());
        const standbyMs = rank < VERDICT_WRITERS ? 0 : Math.min(rank, MAX_STANDBY_STEPS) * VERDICT_STANDBY_STEP_MS;
        const write = (): void => {
          graceTimers.delete(v.node);
          const inc = stillDown();
          if (inc !== undefined) writeDown(v.node, inc, v.by);
        };
        if (standbyMs === 0) write();
        else graceTimers.set(v.node, clock.setTimer(standbyMs, write));
      }),
    );
  };

  const reachableIds = (): readonly string[] => detector.reachable();
  // The role loop asks on every step; the detector returns the same list until a status changes.
  let reachableFrom: readonly string[] | undefined;
  let reachableCache: ReadonlySet<string> = new Set();
  const reachableSet = (): ReadonlySet<string> => {
    const ids = detector.reachable();
    if (ids !== reachableFrom) {
      reachableFrom = ids;
      reachableCache = new Set([self, ...ids]);
    }
    return reachableCache;
  };

  // This node's place in the merge order, kept until a status changes the reachable list: it is
  // asked on every document change while heads pile up (a fleet writing at once), N hashes each.
  let mergeRankFor: { ids: readonly string[]; rank: number } | undefined;
  const mergeRank = (): number => {
    const ids = reachableIds();
    if (mergeRankFor?.ids !== ids) mergeRankFor = { ids, rank: rendezvousRank('merge-heads', self, ids) };
    return mergeRankFor.rank;
  };

  const writeDown = (node: string, inc: number, by: string): void => {
    const member = doc.member(node);
    const recorded = doc.verdicts()[node];
    if (member === undefined || member.incarnation > inc) return; // refuted already
    if (recorded && recorded.status !== 'alive' && recorded.incarnation >= inc) return; // said already
    logger.info({ node, incarnation: inc, by }, 'writing down verdict');
    doc.writeVerdict(node, { status: 'down', incarnation: inc });
  };

  // A `down` verdict about this running node that its member record does not outrank (written
  // by a node that missed the refutation of a suspicion): refute it in the document, after the
  // change that brought it has been handled.
  let refuteTimer: Timer | undefined;
  const refuteRecordedDown = (): void => {
    refuteTimer = undefined;
    const recorded = doc.verdicts()[self];
    const own = doc.member(self);
    if (stopped || recorded?.status !== 'down') return;
    if (own !== undefined && (own.leftAt !== null || own.incarnation > recorded.incarnation)) return; // leaving, or outranked already
    logger.info({ incarnation: recorded.incarnation }, 'refuting a down verdict about self');
    writeAlive(Math.max(recorded.incarnation + 1, detector.incarnation));
  };

  const onDocChange = (): void => {
    policies.sync();
    roles.trigger();
    if (refuteTimer === undefined && doc.verdicts()[self]?.status === 'down') refuteTimer = clock.setTimer(0, refuteRecordedDown);
    // A burst of changes (a sync session, a fleet joining) refreshes the member list once.
    membersTimer ??= clock.setTimer(MEMBER_REFRESH_MS, refreshMembers);
    if (mergeTimer === undefined && doc.headCount() > MERGE_HEADS_ABOVE) {
      // Many concurrent heads (a fleet writing at once): one node, first in rendezvous order,
      // merges them; a few others stand by in rank order (see MERGE_RANKS).
      const rank = mergeRank();
      if (rank < MERGE_RANKS) {
        const seen = new Set(doc.heads());
        mergeTimer = clock.setTimer(rank * MERGE_STANDBY_STEP_MS, () => {
          mergeTimer = undefined;
          // A merge replaces every head it covers: a standby whose heads are all gone stands down.
          const uncovered = doc.heads().some((h) => seen.has(h));
          if (doc.headCount() > MERGE_HEADS_ABOVE && (rank === 0 || uncovered)) doc.mergeHeads();
        });
      }
    }
  };

  let mergeTimer: Timer | undefined;
  let membersTimer: Timer | undefined;
  let knownMembers = '';
  // The same list while no member record changed (ClusterDoc keeps it across other writes).
  let knownList: readonly Member[] | undefined;
  const refreshMembers = (): void => {
    membersTimer = undefined;
    const list = doc.members();
    if (list === knownList) return;
    knownList = list;
    const current = list.filter((m) => m.leftAt === null && m.id !== self);
    const key = current.map((m) => `${m.id}=${m.addresses.join(' ')}`).join('\n');
    if (key !== knownMembers) {
      knownMembers = key;
      detector.setMembers([self, ...current.map((m) => m.id)]);
      // Stay connected to every member, not just the peer that introduced this node: a fleet
      // must survive the loss of its bootstrap node.
      mesh.addPeers(current.flatMap((m) => m.addresses));
    }
    // A member record is written only by its member: its incarnation there outranks any older
    // claim the failure detector holds (a refutation that arrived only through the document) —
    // unless the document holds the member down at that incarnation or above (it failed after
    // writing the record; it comes back only by raising its record again).
    const verdicts = doc.verdicts();
    for (const m of current) {
      const verdict = verdicts[m.id];
      if (verdict !== undefined && verdict.status !== 'alive' && verdict.incarnation >= m.incarnation) continue;
      detector.recordedAlive(m.id, m.incarnation);
    }
  };

  const graceTimers = new Map<string, Timer>();
  const unsubscribe: (() => void)[] = [];
  let started = false;
  let stopped = false;
  const node: PaceNode = {
    self,
    state,
    detector,
    policies,
    roles,
    startedAt: clock.now(),
    async start() {
      if (started) return;
      started = true;
      (node as { startedAt: number }).startedAt = clock.now();
      unsubscribe.push(doc.onChange(onDocChange), detector.on('verdict', onVerdict), detector.on('state', (e) => state.replicator.peerState(e.node, e.digest)), detector.on('change', () => roles.trigger()), policies.onChange(() => roles.trigger()));
      state.start(); // before the mesh, so the sync handler and topic exist when the first peer connects
      await mesh.start();
      writeOwnMember({ leftAt: null, incarnation });
      if (verdict && verdict.status !== 'alive' && verdict.incarnation < incarnation) doc.writeVerdict(self, { status: 'alive', incarnation });
      detector.start();
      policies.sync();
      refreshMembers();
      roles.start();
    },
    async leave() {
      logger.info({}, 'leaving the cluster');
      writeOwnMember({ leftAt: clock.now(), incarnation: detector.incarnation });
      await state.replicator.checkConvergence().catch(() => undefined); // push the leave out before going
      await detector.leave();
    },
    updateSelf(fields) {
      advertised = { ...advertised, labels: { ...fields.labels }, facts: { ...fields.facts } };
      const own = doc.member(self);
      writeOwnMember({ leftAt: own?.leftAt ?? null, incarnation: own?.incarnation ?? incarnation });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const u of unsubscribe.splice(0)) u();
      for (const t of graceTimers.values()) t.cancel();
      membersTimer?.cancel();
      mergeTimer?.cancel();
      refuteTimer?.cancel();
      // A role step may be waiting on the network (a convergence check): stop the loop, then
      // the replication and mesh under it (which aborts such waits), and only then wait for it.
      const rolesStopped = roles.stop();
      detector.stop();
      await state.stop();
      await mesh.stop();
      await rolesStopped;
    },
  };
  return node;
}
