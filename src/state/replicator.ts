/**
 * Replicator: keeps this node's {@link ClusterDoc} converging with its peers over the Mesh.
 *
 * Two channels (DESIGN.md decision 4):
 * - Gossip, topic `pace/<cluster>/changes/<schema>`: every local change is published at once in a
 *   'changes' envelope; receivers apply it. Cheap and fast, but lossy, unordered, no replay.
 * - Sync, protocol `/pace/<cluster>/sync/<schema>`: the Automerge sync protocol in request/response
 *   turns, with one sync state per peer, until neither side has anything to send. A session
 *   runs when a peer comes up, every `syncIntervalMs` (jittered) with one random peer, and at
 *   once when applied gossip leaves changes waiting on missing dependencies.
 *
 * Garbage on either channel (oversized, undecodable envelope, bytes Automerge refuses) is
 * dropped with a `warn` line and counted in {@link Replicator.stats}; the document is unchanged.
 * Heartbeats never go through here: every change is kept forever by Automerge.
 *
 * A session opens with a heads probe: a turn with no Automerge message, only the initiator's
 * heads. A responder holding the same heads answers with its heads and no message, without
 * touching Automerge, so a session between peers already in sync (the common case: periodic
 * anti-entropy and convergence checks) costs one small round trip and no sync-state work.
 * Otherwise the responder answers with its first sync message and the Automerge protocol runs.
 *
 * Concurrency: at most one sync session per peer runs at a time; a trigger during a session
 * makes it run once more. Sessions with different peers interleave on the event loop.
 */
import { setMaxListeners } from 'node:events';
import type { Mesh, PeerId } from '../mesh/mesh.js';
import type { Clock, Timer } from '../seams/clock.js';
import { pick, shuffled, type Random } from '../seams/random.js';
import type { ClusterDoc, DocChangeEvent, PeerSyncState } from './cluster-doc.js';
import { ConvergenceTracker, sameHeads, type ConvergenceCheck, type ConvergenceReport } from './convergence.js';
import { changeHeader, verifyChange } from './change-bytes.js';
import { changeRef, rebuildChange, type ChangeRef } from './change-refs.js';
import { ChangeRejectedError, type RejectReason } from './errors.js';
import type { StateLogger } from './logger.js';
import { SCHEMA_VERSION } from './schema.js';
import { MAX_CHANGES_PER_ENVELOPE, MAX_GOSSIP_BYTES, MAX_SYNC_BYTES, WireDecodeError, decodeWire, encodeWire, type WireMessage } from './wire.js';

/** Timeout of one sync request/response turn. */
export const DEFAULT_SYNC_REQUEST_TIMEOUT_MS = 5_000;
/** Most turns in one sync session (a session normally needs 2-4). */
export const DEFAULT_MAX_SYNC_ROUNDS = 16;
/**
 * Sync with every peer on connect while a node has at most this many peers; above it, with
 * each newly connected peer with probability SYNC_ON_CONNECT_FANOUT / peers, so a join costs
 * O(1) sync sessions instead of one per member (a fleet of N starting up would otherwise run
 * N² sessions). Gossip and the periodic sync carry the rest.
 */
export const SYNC_ON_CONNECT_ALL_UP_TO = 8;
export const SYNC_ON_CONNECT_FANOUT = 3;
/**
 * A node counts as catching up (just joined, or met a larger island) while it sees clearly more
 * peers than its document has members: more than members × this factor + SYNC_ON_CONNECT_ALL_UP_TO.
 * The slack covers member records still in flight while a fleet starts, when every node briefly
 * sees a few peers it has no record of yet.
 */
export const CATCHING_UP_FACTOR = 1.25;
/**
 * An active convergence check syncs with every reachable peer while there are at most this
 * many; above it, with the peers the caller names (the control plane) plus this many drawn at
 * random, so the check costs O(1) round trips in a fleet of any size. A lagging peer outside the
 * sample is caught by a later check or by periodic anti-entropy; the quorum gate, not this
 * check, is what keeps two control planes from acting.
 */
export const CONVERGENCE_SAMPLE = 16;

/**
 * Sessions an active convergence check runs with one peer before it counts that peer as not
 * converged. A lost request ends its session only at the request timeout, so one session per
 * peer makes a check over k peers fail whenever any of 2k messages is lost: at 20 % loss a
 * seven-node fleet never formed its control plane (every check failed). A retry runs only for a
 * peer that has not answered since the check began or answered other heads than ours.
 */
export const CONVERGENCE_CHECK_ATTEMPTS = 3;

/**
 * Characters of the heads digest exchanged out of band ({@link Replicator.stateDigest}): 64 bits
 * tell two documents apart except by a 2^-64 accident, which only delays a repair until the next
 * anti-entropy session.
 */
export const STATE_DIGEST_CHARS = 16;

/** Most per-peer sync states kept between turns (least recently used go first). */
export const MAX_SYNC_STATES = 32;

/**
 * Gossip topic of a cluster's changes. Named with the document's schema version: documents of
 * different schemas have different genesis changes, and must never exchange changes.
 */
export function changesTopic(cluster: string): string {
  return `pace/${cluster}/changes/${SCHEMA_VERSION}`;
}

/** Pairwise protocol of a cluster's sync (with the schema version, as {@link changesTopic}). */
export function syncProtocol(cluster: string): string {
  return `/pace/${cluster}/sync/${SCHEMA_VERSION}`;
}

/**
 * Gossip is applied at most once per batch window: the first change after a quiet spell is
 * applied at once, and changes arriving sooner wait for the end of the window. Automerge's cost
 * is mostly per apply call, and grows with the document, so a burst — a fleet joining, every
 * node recording its role at once — costs a few calls instead of one per change. The window is
 * this many milliseconds up to {@link GOSSIP_BATCH_PEERS} peers and doubles with each doubling
 * of the peers beyond, up to {@link MAX_GOSSIP_BATCH_MS}: a thousand-node fleet applies gossip
 * every 800 ms, which costs its changes at most that much latency and keeps each node's apply
 * work per second flat. Windows end on multiples of their length on the node's clock, so nodes
 * with the same window apply a burst's changes at the same moments and reach the same contents
 * — which a simulated fleet stores once (its DocHandles); a real fleet is indifferent to it.
 */
export const DEFAULT_GOSSIP_BATCH_MS = 100;
export const GOSSIP_BATCH_PEERS = 100;
export const MAX_GOSSIP_BATCH_MS = 1_000;

export interface ReplicatorInit {
  /** See {@link DEFAULT_GOSSIP_BATCH_MS}; 0 applies every envelope as it arrives. @default 100 */
  gossipBatchMs?: number;
  /**
   * Mean interval between periodic sync sessions; each wait is uniform in [0.5, 1.5) × this.
   * No default here: every timing's default lives in the membership profiles
   * (src/membership/profiles.ts), which the node reads.
   */
  syncIntervalMs: number;
  /** Timeout for one sync turn. @default 5000 */
  requestTimeoutMs?: number;
  /** Most turns in one sync session before it gives up until the next trigger. @default 16 */
  maxSyncRounds?: number;
}

export interface ReplicatorComponents {
  mesh: Mesh;
  doc: ClusterDoc;
  clock: Clock;
  random: Random;
  logger: StateLogger;
}

export type Channel = 'gossip' | 'sync';

/** A gossip envelope received and waiting for its batch: whole changes (verified) and change references. */
interface GossipEnvelope {
  readonly from: PeerId;
  readonly heads: string[];
  readonly changes: Uint8Array[];
  readonly refs: readonly ChangeRef[];
  /** Its references failed to rebuild once already (see applyGossip). */
  readonly retried: boolean;
}

/** Counters since start. Dropped counts are by reason. */
export interface ReplicatorStats {
  published: number;
  /** Local changes not published because the envelope was over MAX_GOSSIP_BYTES (they travel by sync). */
  publishSkipped: number;
  gossipReceived: number;
  gossipApplied: number;
  /** Gossiped change references naming heads this node had not held lately (fetched by sync instead; change-refs.ts). */
  gossipUnresolved: number;
  /** Requests for changes by hash that follow unresolved references ('want'). */
  changeFetches: number;
  /** Apply calls the applied gossip took (bursts are applied together; see DEFAULT_GOSSIP_BATCH_MS). */
  gossipBatches: number;
  gossipDropped: Record<RejectReason, number>;
  syncSessions: number;
  syncSessionsFailed: number;
  syncTurns: number;
  syncRequestsServed: number;
  syncDropped: Record<RejectReason, number>;
  /** Sessions started because applied changes were waiting on missing dependencies (or a change fetch did not complete them). */
  missingDepsSyncs: number;
  /** Sessions started because a peer's state digest, learnt out of band, differed from ours. */
  digestSyncs: number;
}

export interface ReplicatorEvents {
  /** The document changed (local write or remote changes applied); `heads` are the new heads. */
  'doc:changed': { heads: string[]; origin: 'local' | 'remote' };
}

/** A sync request was refused by the responder (garbage in it); the mesh reports it to the caller. */
export class SyncRefusedError extends Error {
  override readonly name = 'SyncRefusedError';
  constructor(readonly reason: RejectReason, detail: string) {
    super(`sync request refused (${reason}): ${detail}`);
  }
}

function zeroReasons(): Record<RejectReason, number> {
  return { 'oversized': 0, 'undecodable': 0, 'unsupported-version': 0, 'unexpected-type': 0, 'bad-checksum': 0, 'rejected-by-automerge': 0 };
}

function rejectionOf(err: unknown): { reason: RejectReason; detail: string } | undefined {
  if (err instanceof WireDecodeError || err instanceof ChangeRejectedError) return { reason: err.reason, detail: err.message };
  return undefined;
}

export class Replicator {
  readonly topic: string;
  readonly protocol: string;
  private readonly mesh: Mesh;
  private readonly doc: ClusterDoc;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: StateLogger;
  private readonly syncIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxSyncRounds: number;
  private readonly gossipBatchMs: number;
  /** Verified gossip waiting for the next batch. */
  private pendingGossip: GossipEnvelope[] = [];
  private gossipTimer: Timer | undefined;
  /** Clock time of the last gossip batch applied. */
  private lastGossipApply = Number.NEGATIVE_INFINITY;

  private readonly convergenceTracker = new ConvergenceTracker();
  /** Clock time of each peer's last answer to one of our sync requests (see checkConvergence). */
  private readonly answeredAt = new Map<PeerId, number>();
  /** Sync states of the peers synced with most recently (see MAX_SYNC_STATES). */
  private readonly syncStates = new Map<PeerId, PeerSyncState>();
  private readonly sessions = new Map<PeerId, Promise<void>>();
  private readonly rerun = new Set<PeerId>();
  private readonly listeners = new Set<(event: ReplicatorEvents['doc:changed']) => void>();
  private readonly counters: ReplicatorStats = {
    published: 0,
    publishSkipped: 0,
    gossipReceived: 0,
    gossipApplied: 0,
    gossipBatches: 0,
    gossipDropped: zeroReasons(),
    syncSessions: 0,
    syncSessionsFailed: 0,
    syncTurns: 0,
    syncRequestsServed: 0,
    syncDropped: zeroReasons(),
    missingDepsSyncs: 0,
    gossipUnresolved: 0,
    changeFetches: 0,
    digestSyncs: 0,
  };
  /** Clock time of the last change to the document (local or remote). */
  private lastChangeAt = Number.NEGATIVE_INFINITY;
  /** A digest-triggered session is running (one at a time). */
  private digestSyncRunning = false;
  /** Sync-on-connect sessions running now. */
  private connectSyncs = 0;
  /**
   * Peers connected now, kept from peer:up/peer:down so a connect event costs O(1). A set, not a
   * counter: a mesh may report a peer that was already up when this replicator started (its
   * peer:up still queued), which a counter counted twice.
   */
  private readonly connected = new Set<PeerId>();
  private running = false;
  private timer: Timer | undefined;
  private abort = new AbortController();
  private unsubscribers: Array<() => void> = [];

  constructor(components: ReplicatorComponents, init: ReplicatorInit) {
    this.mesh = components.mesh;
    this.doc = components.doc;
    this.clock = components.clock;
    this.random = components.random;
    this.logger = components.logger;
    if (!Number.isFinite(init.syncIntervalMs) || init.syncIntervalMs <= 0) throw new RangeError(`syncIntervalMs must be a positive number of milliseconds, got ${String(init.syncIntervalMs)}`);
    this.syncIntervalMs = init.syncIntervalMs;
    this.requestTimeoutMs = init.requestTimeoutMs ?? DEFAULT_SYNC_REQUEST_TIMEOUT_MS;
    this.maxSyncRounds = init.maxSyncRounds ?? DEFAULT_MAX_SYNC_ROUNDS;
    this.gossipBatchMs = init.gossipBatchMs ?? DEFAULT_GOSSIP_BATCH_MS;
    this.topic = changesTopic(this.doc.cluster);
    this.protocol = syncProtocol(this.doc.cluster);
  }

  /** Subscribes, registers the sync handler, syncs with current peers, starts the timer. Safe to call twice. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    // One signal is shared by a sync session per peer: a node with more than ten peers would
    // otherwise trip Node's "possible EventTarget memory leak" warning on every start.
    setMaxListeners(0, this.abort.signal);
    this.mesh.subscribe(this.topic);
    this.mesh.handle(this.protocol, (request, from) => this.serveSync(request, from));
    this.unsubscribers = [
      this.mesh.on('message', (e) => {
        if (e.topic === this.topic) this.onGossip(e.from, e.data);
      }),
      this.mesh.on('peer:up', (e) => {
        if (this.connected.has(e.peer)) return;
        this.connected.add(e.peer);
        if (this.syncOnConnect()) this.triggerOnConnect(e.peer);
      }),
      this.mesh.on('peer:down', (e) => this.onPeerDown(e.peer)),
      this.doc.onChange((e) => this.onDocChange(e)),
    ];
    const peers = this.mesh.peers();
    for (const peer of peers) this.connected.add(peer); // all first: sampling reads the count
    for (const peer of peers) if (this.syncOnConnect()) this.triggerOnConnect(peer);
    this.schedule();
  }

  /** Stops timers, aborts sessions in flight and waits for them. Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    this.gossipTimer?.cancel();
    this.gossipTimer = undefined;
    this.pendingGossip = [];
    this.abort.abort(new Error('replicator stopped'));
    for (const off of this.unsubscribers) off();
    this.unsubscribers = [];
    this.mesh.unhandle(this.protocol);
    this.mesh.unsubscribe(this.topic);
    await Promise.allSettled([...this.sessions.values()]);
    for (const peer of [...this.syncStates.keys()]) this.forgetSyncState(peer);
    this.connected.clear();
  }

  private syncOnConnect(): boolean {
    const peers = this.connected.size;
    // One catch-up session at a time is enough, not one full copy per peer.
    if (this.connectSyncs > 0 && this.catchingUp()) return false;
    return peers <= SYNC_ON_CONNECT_ALL_UP_TO || this.random.float() < SYNC_ON_CONNECT_FANOUT / peers;
  }

  /** This node just joined or met another island: it sees clearly more peers than it has member records (CATCHING_UP_FACTOR). */
  private catchingUp(): boolean {
    const members = this.doc.members().length;
    return members <= 1 || this.connected.size > members * CATCHING_UP_FACTOR + SYNC_ON_CONNECT_ALL_UP_TO;
  }

  /** A copy of the counters. */
  stats(): ReplicatorStats {
    return { ...this.counters, gossipDropped: { ...this.counters.gossipDropped }, syncDropped: { ...this.counters.syncDropped } };
  }

  /**
   * Passive view: whether every reachable peer last announced the heads we hold now. Costs
   * nothing, but a peer's announcement can be stale (see convergence.ts): use it for display
   * and as a cheap pre-check.
   */
  convergence(): ConvergenceReport {
    return this.convergenceTracker.report([this.doc.headsDigest()], this.mesh.peers());
  }

  /**
   * Active check: runs a sync session with the peers checked (one heads-probe round trip each
   * when already in sync), then reports on them. This is the gate for decisions that need a
   * converged view. Peers checked: every reachable peer while there are at most
   * {@link CONVERGENCE_SAMPLE}; above that, the reachable ones among `include` plus
   * CONVERGENCE_SAMPLE drawn at random — O(1) requests however large the fleet.
   * `answered` names the checked peers that answered a sync request during this check: a round
   * trip both ways just now, which is what a quorum gate may count (a peer's last announcement,
   * which the convergence verdict uses, may predate a crash or a partition).
   */
  async checkConvergence(options: { include?: readonly PeerId[] } = {}): Promise<ConvergenceCheck> {
    const checked = this.convergenceSample(options.include ?? []);
    const startedAt = this.clock.now();
    const hasAnswered = (peer: PeerId): boolean => (this.answeredAt.get(peer) ?? Number.NEGATIVE_INFINITY) >= startedAt;
    await Promise.all(checked.map((peer) => this.checkPeer(peer, hasAnswered)));
    const answered = checked.filter(hasAnswered).sort();
    // A peer that answered none of its sessions says nothing about whether our document is
    // current, only that the link to it is bad. While most of the checked peers answered, such
    // a peer is left out of the verdict unless the caller named it (the control plane, the
    // wanted managers): on a lossy link one silent peer of sixteen failed most checks.
    const named = new Set(options.include ?? []);
    const counted = answered.length * 2 > checked.length ? checked.filter((peer) => named.has(peer) || hasAnswered(peer)) : checked;
    return { ...this.convergenceTracker.report([this.doc.headsDigest()], counted), answered };
  }

  /** Syncs with `peer` until it has answered and holds our heads, at most CONVERGENCE_CHECK_ATTEMPTS sessions. */
  private async checkPeer(peer: PeerId, hasAnswered: (peer: PeerId) => boolean): Promise<void> {
    for (let attempt = 0; attempt < CONVERGENCE_CHECK_ATTEMPTS; attempt++) {
      await this.syncWith(peer);
      if (!this.running || !this.connected.has(peer)) return;
      if (hasAnswered(peer) && this.convergenceTracker.agrees(peer, this.doc.headsDigest())) return;
    }
  }

  private convergenceSample(include: readonly PeerId[]): PeerId[] {
    const peers = this.mesh.peers();
    if (peers.length <= CONVERGENCE_SAMPLE) return peers;
    const reachable = new Set(peers);
    const named = include.filter((p) => reachable.has(p));
    return [...new Set([...named, ...shuffled(this.random, peers).slice(0, CONVERGENCE_SAMPLE)])];
  }

  /** A short digest of this document's heads, for peers to compare out of band (failure-detector probes). */
  stateDigest(): string {
    return this.doc.headsDigest().slice(0, STATE_DIGEST_CHARS);
  }

  /**
   * `peer` told us its {@link stateDigest} (in a probe's answer). When it differs from ours and
   * our document has been quiet for a gossip batch window — nothing received or written is still
   * on its way in, so the difference is not just gossip in flight — syncs with that peer now,
   * one such session at a time. This repairs a lost gossip message within about one probe
   * interval instead of waiting for periodic anti-entropy.
   */
  peerState(peer: PeerId, digest: string): void {
    if (!this.running || this.digestSyncRunning || digest === this.stateDigest()) return;
    if (this.pendingGossip.length > 0 || this.clock.now() - this.lastChangeAt < this.gossipWindow()) return;
    this.counters.digestSyncs++;
    this.digestSyncRunning = true;
    void this.syncWith(peer).finally(() => (this.digestSyncRunning = false));
  }

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof ReplicatorEvents>(_event: E, listener: (event: ReplicatorEvents[E]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs a sync session with `peer` (or joins the one in flight, which then runs once more).
   * Never rejects: failures are logged and counted.
   */
  syncWith(peer: PeerId): Promise<void> {
    if (!this.running) return Promise.resolve();
    const inFlight = this.sessions.get(peer);
    if (inFlight !== undefined) {
      this.rerun.add(peer);
      return inFlight;
    }
    const session = this.runSessions(peer).finally(() => this.sessions.delete(peer));
    this.sessions.set(peer, session);
    return session;
  }

  // ---- gossip -------------------------------------------------------------------------------

  private onDocChange(event: DocChangeEvent): void {
    this.lastChangeAt = this.clock.now();
    for (const listener of [...this.listeners]) {
      try {
        listener({ heads: event.heads, origin: event.origin });
      } catch (err) {
        this.logger.error({ err }, 'doc:changed listener threw');
      }
    }
    if (event.origin !== 'local' || event.change === undefined) return;
    const envelope = encodeWire(this.gossipOf(event.change, event.base));
    if (envelope.length > MAX_GOSSIP_BYTES) {
      this.counters.publishSkipped++;
      this.logger.warn({ bytes: envelope.length, limit: MAX_GOSSIP_BYTES }, 'local change too large for gossip; peers will fetch it by sync');
      return;
    }
    this.counters.published++;
    this.mesh.publish(this.topic, envelope).catch((err: unknown) => {
      this.logger.debug({ err: String(err) }, 'publishing change failed; sync will carry it');
    });
  }

  /**
   * The envelope of a local change: as a reference to the heads it was written on when it
   * depends on many of them (change-refs.ts), else whole.
   */
  private gossipOf(change: Uint8Array, base: readonly string[] | undefined): WireMessage {
    const heads = [this.doc.headsDigest()];
    const deps = base === undefined ? undefined : changeHeader(change)?.deps;
    const ref = base === undefined || deps === undefined ? undefined : changeRef(change, verifyChange(change), deps, base);
    return ref === undefined ? { type: 'changes', heads, changes: [change] } : { type: 'change-refs', heads, refs: [ref] };
  }

  private onGossip(from: PeerId, data: Uint8Array): void {
    if (from === this.mesh.self) return;
    this.counters.gossipReceived++;
    let message: WireMessage;
    try {
      message = decodeWire(data, MAX_GOSSIP_BYTES);
      if (message.type === 'sync' || message.type === 'want') throw new WireDecodeError('unexpected-type', `${message.type} on the gossip topic`);
      if (message.type === 'changes') this.doc.verifyChanges(message.changes);
    } catch (err) {
      this.drop('gossip', from, err);
      return;
    }
    this.pendingGossip.push(message.type === 'changes' ? { from, heads: message.heads, changes: message.changes, refs: [], retried: false } : { from, heads: message.heads, changes: [], refs: message.refs, retried: false });
    if (this.gossipTimer !== undefined) return;
    if (this.lastGossipApply + this.gossipWindow() <= this.clock.now()) this.applyGossip();
    else this.scheduleGossip();
  }

  /** Applies the waiting gossip when the current batch window ends. */
  private scheduleGossip(): void {
    if (this.gossipTimer !== undefined) return;
    const window = Math.max(1, this.gossipWindow());
    const now = this.clock.now();
    this.gossipTimer = this.clock.setTimer(Math.ceil((now + 1) / window) * window - now, () => this.applyGossip());
  }

  /** The gossip batch window for the current peer count (see DEFAULT_GOSSIP_BATCH_MS). */
  private gossipWindow(): number {
    if (this.gossipBatchMs <= 0) return 0;
    let window = this.gossipBatchMs;
    while (window * 2 <= MAX_GOSSIP_BATCH_MS && (window * GOSSIP_BATCH_PEERS) / this.gossipBatchMs < this.connected.size) window *= 2;
    return window;
  }

  /**
   * Applies the waiting gossip in one call; on a refusal, envelope by envelope to find the
   * culprit. Change references (change-refs.ts) are rebuilt on the heads this node holds; one
   * whose base is not among them gets a second try once the batch is in (the batch may hold
   * it), and then counts as lost: a sync with its publisher fetches it, as it fetches missing
   * dependencies.
   */
  private applyGossip(): void {
    this.gossipTimer = undefined;
    this.lastGossipApply = this.clock.now();
    const batch = this.pendingGossip;
    this.pendingGossip = [];
    if (batch.length === 0 || !this.running) return;
    this.counters.gossipBatches++;
    const deferred: GossipEnvelope[] = [];
    const applied = this.applyEnvelopes(this.rebuilt(batch, deferred));
    const unresolved: GossipEnvelope[] = [];
    if (deferred.length > 0) applied.push(...this.applyEnvelopes(this.rebuilt(deferred, unresolved)));
    // A reference that did not rebuild waits one more batch: its writer may have applied changes
    // still waiting in this node's next batch (a shorter gossip window), which the change needs
    // anyway. Then the changes are fetched from the publisher.
    const wanted = new Map<PeerId, string[]>();
    for (const envelope of unresolved) {
      if (!envelope.retried) {
        this.pendingGossip.push({ ...envelope, retried: true });
        continue;
      }
      this.counters.gossipUnresolved += envelope.refs.length;
      wanted.set(envelope.from, [...(wanted.get(envelope.from) ?? []), ...envelope.refs.map((r) => r.hash)]);
    }
    if (this.pendingGossip.length > 0) this.scheduleGossip();
    for (const [peer, hashes] of wanted) void this.fetchChanges(peer, hashes);
    // Changes that waited and went down with a refused batch are fetched again by a sync, as are
    // the dependencies of those still waiting.
    const last = applied[applied.length - 1] ?? batch[batch.length - 1];
    const refused = this.doc.takeRefusedWaiting() > 0;
    if (last !== undefined && (refused || this.doc.missingDeps().length > 0)) this.syncForMissing(last.from);
  }

  /** A sync session for changes this node knows it lacks: with `preferred` when reachable, else with a random peer. */
  private syncForMissing(preferred: PeerId): void {
    const peers = this.mesh.peers();
    const target = peers.includes(preferred) ? preferred : pick(this.random, peers);
    if (target === undefined) return;
    this.counters.missingDepsSyncs++;
    void this.syncWith(target);
  }

  /**
   * Asks `peer` (the publisher of change references this node could not rebuild) for those
   * changes by hash: one round trip, no sync state. When that fails, or the changes need
   * dependencies this node lacks, a sync session follows. Never rejects.
   */
  private async fetchChanges(peer: PeerId, hashes: readonly string[]): Promise<void> {
    this.counters.changeFetches++;
    try {
      const request = encodeWire({ type: 'want', heads: [this.doc.headsDigest()], hashes: hashes.slice(0, MAX_CHANGES_PER_ENVELOPE) });
      const response = await this.mesh.request(peer, this.protocol, request, { signal: this.abort.signal, timeoutMs: this.requestTimeoutMs });
      if (!this.running) return;
      const message = decodeWire(response, MAX_SYNC_BYTES);
      if (message.type !== 'changes') throw new WireDecodeError('unexpected-type', `${message.type} as an answer to want`);
      this.doc.applyChanges(message.changes);
      // Applied: done. Waiting for dependencies this node lacks: a sync session brings those.
      if (this.doc.hasHeads(hashes)) return;
    } catch (err) {
      if (!this.running) return;
      if (rejectionOf(err) !== undefined) this.drop('sync', peer, err);
      else this.logger.debug({ peer, err: err instanceof Error ? err.message : String(err) }, 'fetching changes failed');
    }
    this.syncForMissing(peer);
  }

  /**
   * The envelopes with their change references rebuilt into changes; an envelope with a
   * reference to heads this node has not held lately goes to `unresolved` instead, and one whose
   * rebuilt change does not verify is dropped.
   */
  private rebuilt(envelopes: readonly GossipEnvelope[], unresolved: GossipEnvelope[]): GossipEnvelope[] {
    const out: GossipEnvelope[] = [];
    for (const envelope of envelopes) {
      if (envelope.refs.length === 0) {
        out.push(envelope);
        continue;
      }
      const bases = envelope.refs.map((ref) => this.doc.headsWithDigest(ref.base));
      if (bases.some((b) => b === undefined)) {
        unresolved.push(envelope);
        continue;
      }
      try {
        const changes = envelope.refs.map((ref, i) => rebuildChange(ref, bases[i] as readonly string[]));
        this.doc.verifyChanges(changes);
        out.push({ ...envelope, changes: [...envelope.changes, ...changes], refs: [] });
      } catch (err) {
        this.drop('gossip', envelope.from, err);
      }
    }
    return out;
  }

  /** Applies envelopes' changes in one call, or one by one when that is refused; returns those applied. */
  private applyEnvelopes(envelopes: readonly GossipEnvelope[]): GossipEnvelope[] {
    if (envelopes.length === 0) return [];
    let applied = [...envelopes];
    try {
      this.doc.applyChanges(envelopes.flatMap((e) => e.changes));
    } catch {
      applied = envelopes.filter((envelope) => {
        try {
          this.doc.applyChanges(envelope.changes);
          return true;
        } catch (err) {
          this.drop('gossip', envelope.from, err);
          return false;
        }
      });
    }
    for (const envelope of applied) {
      this.counters.gossipApplied++;
      this.convergenceTracker.observe(envelope.from, envelope.heads);
    }
    return applied;
  }

  // ---- sync ---------------------------------------------------------------------------------

  /**
   * Sync on connect (one already passed syncOnConnect's sampling). Not toward a newcomer — a peer
   * this document has no member record of while this node is not catching up itself: the
   * newcomer pulls its own copy in one session, and a push from here would send it a second full
   * copy of the document (a fleet starting up sent two or three per join). Its member record
   * arrives by gossip, and the digest checks and periodic sync repair what gossip loses.
   */
  private triggerOnConnect(peer: PeerId): void {
    if (this.connected.size <= SYNC_ON_CONNECT_ALL_UP_TO || this.catchingUp() || this.doc.member(peer) !== undefined) this.trigger(peer);
  }

  /** A sync on connect: counted while it runs (see syncOnConnect). */
  private trigger(peer: PeerId): void {
    this.connectSyncs++;
    void this.syncWith(peer).finally(() => this.connectSyncs--);
  }

  private onPeerDown(peer: PeerId): void {
    this.connected.delete(peer);
    this.forgetSyncState(peer);
    this.convergenceTracker.forget(peer);
    this.answeredAt.delete(peer);
  }

  private schedule(): void {
    if (!this.running) return;
    const delay = Math.round(this.syncIntervalMs * (0.5 + this.random.float()));
    this.timer = this.clock.setTimer(delay, () => {
      const peer = pick(this.random, this.mesh.peers());
      if (peer !== undefined) void this.syncWith(peer);
      this.schedule();
    });
  }

  /**
   * `peer`'s sync state, made the most recent (created when there is none). Beyond
   * MAX_SYNC_STATES the least recent is forgotten (a peer without one starts its next session
   * afresh, which costs a bloom filter of the history, not correctness): a state lists heads and
   * hashes sent, so keeping one per member would grow with fleet size squared.
   */
  private stateFor(peer: PeerId): PeerSyncState {
    const state = this.syncStates.get(peer) ?? this.doc.newSyncState();
    this.syncStates.delete(peer);
    this.syncStates.set(peer, state);
    if (this.syncStates.size > MAX_SYNC_STATES) this.forgetSyncState(this.syncStates.keys().next().value as PeerId);
    return state;
  }

  /** Drops `peer`'s sync state (freeing its wasm memory): its next session starts afresh. */
  private forgetSyncState(peer: PeerId): void {
    this.syncStates.get(peer)?.free();
    this.syncStates.delete(peer);
  }

  private async runSessions(peer: PeerId): Promise<void> {
    do {
      this.rerun.delete(peer);
      this.counters.syncSessions++;
      const ok = await this.session(peer);
      if (!ok) {
        this.counters.syncSessionsFailed++;
        // Whatever we believed the peer has may be wrong now: start the next session afresh.
        this.forgetSyncState(peer);
      }
    } while (this.running && this.rerun.has(peer));
  }

  /**
   * One session: a heads probe, then Automerge turns until neither side has anything to send.
   * False on any failure.
   */
  private async session(peer: PeerId): Promise<boolean> {
    for (let turn = 0; turn < this.maxSyncRounds; turn++) {
      if (!this.running) return false;
      const heads = [this.doc.headsDigest()];
      const probe = turn === 0;
      let outgoing: Uint8Array | null = null;
      if (!probe) {
        outgoing = this.doc.generateSyncMessage(this.stateFor(peer));
      }
      const request = encodeWire({ type: 'sync', heads, message: outgoing });
      if (request.length > MAX_SYNC_BYTES) {
        this.logger.error({ peer, bytes: request.length, limit: MAX_SYNC_BYTES }, 'sync message over the size limit; not sent');
        return false;
      }
      let response: Uint8Array;
      try {
        this.counters.syncTurns++;
        response = await this.mesh.request(peer, this.protocol, request, { signal: this.abort.signal, timeoutMs: this.requestTimeoutMs });
      } catch (err) {
        this.logger.debug({ peer, err: err instanceof Error ? err.message : String(err) }, 'sync request failed');
        return false;
      }
      if (!this.running) return false;
      let incoming: Uint8Array | null;
      let theirHeads: string[];
      try {
        const message = decodeWire(response, MAX_SYNC_BYTES);
        if (message.type !== 'sync') throw new WireDecodeError('unexpected-type', `${message.type} as a sync response`);
        incoming = message.message;
        theirHeads = message.heads;
        if (incoming !== null) this.doc.receiveSyncMessage(this.stateFor(peer), incoming);
        this.convergenceTracker.observe(peer, theirHeads);
        this.answeredAt.set(peer, this.clock.now());
      } catch (err) {
        this.drop('sync', peer, err);
        return false;
      }
      // A probe answered with our own heads: in sync, nothing to exchange.
      if (probe) {
        if (incoming === null && sameHeads(theirHeads, heads)) return true;
        continue;
      }
      if (outgoing === null && incoming === null) return true;
    }
    this.logger.warn({ peer, turns: this.maxSyncRounds }, 'sync session did not settle; will retry on the next trigger');
    return false;
  }

  /** Mesh handler: answers one sync turn from `from`. Throws SyncRefusedError on garbage. */
  private serveSync(request: Uint8Array, from: PeerId): Promise<Uint8Array> {
    this.counters.syncRequestsServed++;
    try {
      const message = decodeWire(request, MAX_SYNC_BYTES);
      if (message.type === 'want') {
        // As many of the changes asked for as fit one response.
        const changes: Uint8Array[] = [];
        let bytes = 4 + 32 + 2;
        for (const change of this.doc.changesByHash(message.hashes)) {
          if ((bytes += 4 + change.length) > MAX_SYNC_BYTES) break;
          changes.push(change);
        }
        return Promise.resolve(encodeWire({ type: 'changes', heads: [this.doc.headsDigest()], changes }));
      }
      if (message.type !== 'sync') throw new WireDecodeError('unexpected-type', `${message.type} as a sync request`);
      if (message.message !== null) {
        const state = this.stateFor(from);
        this.doc.receiveSyncMessage(state, message.message);
        // Automerge's sync state assumes every message it generated arrived: changes go into
        // its sent set when the reply is built, and are never offered again. Over request and
        // response a reply can be lost (its requester then times out and starts a new
        // session), and the lost changes would never come from this node again. The message
        // just received says what the requester holds now — turns are sequential, so it has
        // applied every reply it got — so the reply is computed from that alone.
        this.doc.forgetSentChanges(state);
      }
      this.convergenceTracker.observe(from, message.heads);
      if (message.message === null) {
        // A heads probe: when we hold the same heads there is nothing to exchange.
        const heads = [this.doc.headsDigest()];
        if (sameHeads(message.heads, heads)) return Promise.resolve(encodeWire({ type: 'sync', heads, message: null }));
      }
    } catch (err) {
      this.drop('sync', from, err);
      this.forgetSyncState(from);
      const rejection = rejectionOf(err);
      return Promise.reject(new SyncRefusedError(rejection?.reason ?? 'undecodable', rejection?.detail ?? String(err)));
    }
    const reply = this.doc.generateSyncMessage(this.stateFor(from));
    const response = encodeWire({ type: 'sync', heads: [this.doc.headsDigest()], message: reply });
    if (response.length > MAX_SYNC_BYTES) {
      this.logger.error({ peer: from, bytes: response.length, limit: MAX_SYNC_BYTES }, 'sync reply over the size limit; not sent');
      this.forgetSyncState(from);
      return Promise.reject(new SyncRefusedError('oversized', `reply of ${response.length} bytes`));
    }
    return Promise.resolve(response);
  }

  private drop(channel: Channel, peer: PeerId, err: unknown): void {
    const rejection = rejectionOf(err);
    if (rejection === undefined) {
      // Not a rejection we know: still never applied, still counted, but worth an error line.
      this.logger.error({ channel, peer, err: err instanceof Error ? err.message : String(err) }, 'unexpected error handling peer data; dropped');
    } else {
      this.logger.warn({ channel, peer, reason: rejection.reason, detail: rejection.detail }, 'dropped data from peer');
    }
    const counters = channel === 'gossip' ? this.counters.gossipDropped : this.counters.syncDropped;
    counters[rejection?.reason ?? 'undecodable']++;
  }
}

