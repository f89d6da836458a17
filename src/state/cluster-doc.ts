/**
 * The cluster document: one Automerge document per cluster, with typed, defensive readers and
 * typed writers for what this node may write.
 *
 * Contract:
 * - Every document starts from the cluster's deterministic genesis ({@link genesis}).
 * - This node writes with its own actor id, new each time a ClusterDoc is created or loaded:
 *   a fixed prefix, the clock's time, then bytes from the injected Random (see {@link freshActor}). It is never persisted, so it is never reused after a
 *   restart or after state loss (see docs/STATE.md, "Actor ids").
 * - Change timestamps are the injected Clock's time in whole seconds.
 * - Readers never throw: an entry that does not fit the schema is skipped and logged once
 *   (per path and reason) at `warn`.
 * - Readers return frozen values from a {@link DocumentView}: one parsed snapshot per set of
 *   heads, advanced from the previous one by re-reading only the entries that changed, and
 *   shared process-wide by heads in a {@link ContentCache} (a simulated fleet's nodes holding
 *   the same document share it). A node that reads content another node parsed first logs no
 *   schema warnings for it; the first parse did.
 * - The document lives in Automerge's wasm handle alone ({@link Backend}); Automerge's JS
 *   document layer is never used (see automerge-backend.ts for why).
 * - Writers touch only what this node owns: its member record, its role, verdicts it
 *   declares, driver records and the policy envelope. A writer that would not change anything
 *   makes no Automerge change and returns false.
 * - Remote bytes go through {@link ClusterDoc.applyChanges} / {@link ClusterDoc.receiveSyncMessage},
 *   which either apply them or throw {@link ChangeRejectedError} and leave the document unchanged.
 * - With {@link ClusterDocInit.sharedStates} the handle may be shared with other documents
 *   holding the same content; every change goes through {@link ClusterDoc.own} first
 *   (copy-on-write), so sharing never shows in what the document holds. A record write on a
 *   shared handle is not applied to a copy at once: it is encoded (pending-writes.ts) and kept
 *   beside the handle until the next apply, sync or write that needs it in the handle — the
 *   readers, heads and save bytes include it all along.
 *
 * Not thread-safe by design: one event loop owns the instance. Listeners run synchronously after
 * each change, in registration order.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../seams/clock.js';
import type { Random } from '../seams/random.js';
import { createBackend, forgetSentChanges, generateSyncMessage, loadBackend, newPeerSyncState, putValue, receiveSyncMessage, type Backend, type PeerSyncState } from './automerge-backend.js';
import { planBatch, type BatchPlan } from './causal-batch.js';
import { headsDigestOf } from './change-refs.js';
import { changeHeader, documentChunkHeads, verifyChange, verifySyncMessage, type ChangeHeader } from './change-bytes.js';
import { advanceView, readPolicy, readView, withRecords, type DocumentView, type KeyedMap } from './document-view.js';
import { encodeRecordPut, headsAfter, maxOpOf, type PendingWrite } from './pending-writes.js';
import { recordText } from './record-text.js';
import { ContentCache } from '../util/content-cache.js';
import { ChangeRejectedError, DocumentLoadError, DocumentShapeError } from './errors.js';
import { assertClusterName, genesis } from './genesis.js';
import type { StateLogger } from './logger.js';
import type { SharedDocStates } from './shared-doc-states.js';
import type { JsonValue, Member, PolicyEnvelope, Role, RoleRecord, TopLevelMap, Verdict, VerdictStatus } from './schema.js';

export type { PeerSyncState } from './automerge-backend.js';

export interface ClusterDocInit {
  /** Cluster name (1-63 of [a-z0-9-]); decides the genesis. */
  cluster: string;
  /** This node's id (its mesh peer id): the key of its member and role records. */
  self: string;
  clock: Clock;
  random: Random;
  logger: StateLogger;
  /**
   * Handles shared copy-on-write with every other document holding the same content (a
   * simulated fleet). Unset (the daemon): this document owns its handle alone.
   */
  sharedStates?: SharedDocStates;
}

/** What changed: emitted after every local write and every remote apply that moved the heads. */
export interface DocChangeEvent {
  origin: 'local' | 'remote';
  /** The document's heads after the change, sorted. */
  heads: string[];
  /** For local writes: the encoded change to broadcast. */
  change?: Uint8Array;
  /** For local writes: the heads (sorted) the change was written on (what change-refs.ts refers to). */
  base?: readonly string[];
}

export type DocChangeListener = (event: DocChangeEvent) => void;

/** At most this many distinct schema warnings are remembered for de-duplication. */
const MAX_REMEMBERED_WARNINGS = 1_000;

/** One document content: its snapshot. */
interface ParsedContent {
  readonly view: DocumentView;
}

/** The heads of the backend at one version and their parsed content. */
interface Content {
  /** {@link ClusterDoc} version it was read at. */
  version: number;
  /** Sorted. */
  heads: readonly string[];
  /** The same heads with their digest once asked for; also in {@link ClusterDoc.recentHeads}. */
  headSet: HeadSet;
  key: string;
  /** Built on first read. */
  parsed: ParsedContent | undefined;
  /** The policy slot read on its own, while no full snapshot was needed (see {@link ClusterDoc.policy}). */
  policy?: { readonly value: PolicyEnvelope | undefined };
}

/** A document's heads (sorted) and their digest ({@link headsDigestOf}), made on first request. */
interface HeadSet {
  readonly list: readonly string[];
  digest?: string;
}

/**
 * Head sets a document held lately, kept to rebuild changes gossiped as references to the
 * writer's heads (change-refs.ts): the writer's heads are most often ones the receiver held a
 * gossip window or two ago.
 */
const RECENT_HEAD_SETS = 16;

/** Parsed contents by {@link ClusterDoc.contentKey}, shared by every ClusterDoc in the process. */
const parsedContents = new ContentCache<ParsedContent>(256);
/**
 * What applying a batch of changes does to a content (causal-batch.ts), by the content's key and
 * the batch's hashes. A simulated fleet's nodes hold the same content and apply the same batch at
 * the same moment (aligned gossip windows): a thousand identical plans, each walking every
 * change's dependencies — hundreds while a large fleet records its roles.
 */
const plans = new ContentCache<BatchPlan>(1_024);
/**
 * Most received changes kept waiting for missing dependencies; beyond it the oldest are dropped
 * (a sync session fetches them again). A fleet recording its roles after losing one early change
 * can hold about one change per member.
 */
export const MAX_WAITING_CHANGES = 10_000;

/** Most changes of its own a document adds to a copy of a sender's stored document (ClusterDoc.adoptionFor); beyond, it loads what was sent. */
export const MAX_ADOPTED_OWN_CHANGES = 64;
/** The highest op of each content a record write was encoded on (pending-writes.ts), by content key. */
const maxOps = new ContentCache<number>(256);

/** A head set's digest ({@link headsDigestOf}), made once. */
function digestOf(set: HeadSet): string {
  return (set.digest ??= headsDigestOf(set.list));
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** {@link ClusterDoc.contentKey} of a document of `cluster` with these (sorted) heads. */
function contentKeyOf(cluster: string, heads: readonly string[]): string {
  return `${cluster}:${heads.join(',')}`;
}

function sameHeads(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((h, i) => h === b[i]);
}

/**
 * Automerge keeps a document's actors sorted and rewrites its actor columns for every new actor
 * that does not sort after all the known ones — a cost that grows with the document, paid by
 * every node for every newcomer. So a node's actor id sorts after every earlier one: the prefix
 * NODE_ACTOR_PREFIX (above the genesis actor, a hash, except by a 2^-16 accident), then 6 bytes
 * of the clock's milliseconds (big-endian), then 8 random bytes. A node that starts later than
 * the ones in a document is appended to its actor table.
 */
export const NODE_ACTOR_PREFIX = 'ffff';

function freshActor(clock: Clock, random: Random): string {
  const time = Math.max(0, Math.min(Math.floor(clock.now()), 2 ** 48 - 1)).toString(16).padStart(12, '0');
  return NODE_ACTOR_PREFIX + time + Buffer.from(random.bytes(8)).toString('hex');
}

/** Writes a record as one JSON-text scalar (record-text.ts), replacing whatever `map[key]` held. */
function putRecord(backend: Backend, map: string, key: string, record: JsonValue | object): void {
  backend.put(map, key, recordText(record as JsonValue), 'str');
}

/**
 * What the readers derive from a snapshot's record maps, by map. A snapshot advanced past a
 * change elsewhere keeps the maps it did not touch (document-view.ts), so contents that differ
 * only in roles share one member list: a node refreshing its member list after every role write
 * finds it unchanged at once, as does every other node of a simulated fleet.
 */
const memberLists = new WeakMap<ReadonlyMap<string, Member>, readonly Member[]>();
const sortedRecords = new WeakMap<ReadonlyMap<string, unknown>, Readonly<Record<string, unknown>>>();

/** A map's entries as a record with sorted keys, frozen (one per map). */
function sortedRecord<T>(map: ReadonlyMap<string, T>): Readonly<Record<string, T>> {
  let out = sortedRecords.get(map) as Readonly<Record<string, T>> | undefined;
  if (out === undefined) {
    const record: Record<string, T> = {};
    for (const key of [...map.keys()].sort()) record[key] = map.get(key) as T;
    sortedRecords.set(map, (out = Object.freeze(record)));
  }
  return out;
}

export class ClusterDoc {
  readonly cluster: string;
  readonly self: string;
  /** This node's actor id for this incarnation of the document (hex, 16 bytes). */
  readonly actor: string;
  private backend: Backend;
  private readonly clock: Clock;
  private readonly sharedStates: SharedDocStates | undefined;
  /** The content key under which `backend` is in {@link sharedStates} (held, not owned); undefined when owned alone. */
  private sharedKey: string | undefined;
  private readonly logger: StateLogger;
  private readonly listeners = new Set<DocChangeListener>();
  private readonly warned = new Set<string>();
  /** The heads and parsed content at `version`. */
  private current: Content | undefined;
  /** The last snapshot this document built or adopted: what the next one is advanced from. */
  private lastView: DocumentView | undefined;
  /** Incremented by every local write and remote apply. */
  private version = 0;
  /** Record writes made on top of the shared handle, not yet in it (oldest first; see pending-writes.ts). */
  private pending: PendingWrite[] = [];
  /** Changes this actor has made: the last one's sequence number. */
  private localSeq = 0;
  /** Hash of this actor's last change. */
  private lastLocalHash: string | undefined;
  /** {@link handleHeads} at a version: only an apply, commit or move (each a new version) changes the handle's heads. */
  private handleHeadsAt: { readonly version: number; readonly heads: readonly string[] } | undefined;
  /** Head sets this document held lately, oldest first (see {@link RECENT_HEAD_SETS}). */
  private readonly recentHeads: HeadSet[] = [];
  /** Received changes waiting for a missing dependency (causal-batch.ts), by hash, oldest first. */
  private readonly waiting = new Map<string, Uint8Array>();
  /** Waiting changes lost with a refused batch, not yet reported (see {@link takeRefusedWaiting}). */
  private refusedWaiting = 0;

  private constructor(backend: Backend, init: ClusterDocInit, actor: string) {
    this.backend = backend;
    this.cluster = init.cluster;
    this.self = init.self;
    this.actor = actor;
    this.clock = init.clock;
    this.logger = init.logger;
    this.sharedStates = init.sharedStates;
  }

  /** A fresh document holding only the genesis change, with a new random actor id. */
  static create(init: ClusterDocInit): ClusterDoc {
    assertClusterName(init.cluster);
    const actor = freshActor(init.clock, init.random);
    const backend = createBackend(actor);
    backend.applyChanges([genesis(init.cluster).change]);
    const doc = new ClusterDoc(backend, init, actor);
    doc.settle();
    return doc;
  }

  /**
   * A document from {@link save} bytes, with a new random actor id.
   * Throws {@link DocumentLoadError}: 'undecodable' when Automerge refuses the bytes,
   * 'foreign-cluster' when they lack this cluster's genesis.
   */
  static load(bytes: Uint8Array, init: ClusterDocInit): ClusterDoc {
    assertClusterName(init.cluster);
    const actor = freshActor(init.clock, init.random);
    let backend: Backend;
    try {
      backend = loadBackend(bytes, actor);
    } catch (err) {
      throw new DocumentLoadError('undecodable', err instanceof Error ? err.message : String(err), { cause: err });
    }
    const doc = new ClusterDoc(backend, init, actor);
    if (!doc.hasHeads([genesis(init.cluster).hash])) {
      backend.free();
      throw new DocumentLoadError('foreign-cluster', `document does not contain the genesis of cluster ${init.cluster}`);
    }
    doc.settle();
    return doc;
  }

  /** Current heads, sorted. */
  heads(): string[] {
    return this.content().heads.slice();
  }

  /** How many heads the document has (concurrent branches not yet merged). */
  headCount(): number {
    return this.content().heads.length;
  }

  /**
   * One hash naming the current heads: the head itself when there is one, else the sha256 of
   * the sorted heads. What replication announces to peers, so an announcement stays 32 bytes
   * however many concurrent heads a large fleet's document has.
   */
  headsDigest(): string {
    return digestOf(this.content().headSet);
  }

  /**
   * The heads (sorted) whose {@link headsDigest} is `digest`, when this document held them
   * lately ({@link RECENT_HEAD_SETS}): what rebuilds a change gossiped as a reference to its
   * writer's heads (change-refs.ts).
   */
  headsWithDigest(digest: string): readonly string[] | undefined {
    for (let i = this.recentHeads.length - 1; i >= 0; i--) {
      const set = this.recentHeads[i] as HeadSet;
      if (digestOf(set) === digest) return set.list;
    }
    return undefined;
  }

  /** The whole document (Automerge's compact save format), for persistence. Do not modify the bytes. */
  save(): Uint8Array {
    const saved = this.sharedKey !== undefined ? (this.sharedStates?.saved(this.sharedKey) ?? this.backend.save()) : this.backend.save();
    // Automerge loads a saved document followed by change chunks as one document.
    return this.pending.length === 0 ? saved : Buffer.concat([saved, ...this.pending.map((w) => w.change)]);
  }

  /** Listens to changes; returns a function that removes the listener. */
  onChange(listener: DocChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- readers (never throw) ---------------------------------------------------------------

  /**
   * Names the document's content: the cluster and its sorted heads. Equal keys mean equal
   * content, so anything derived from the document alone may be cached by it.
   */
  contentKey(): string {
    return this.content().key;
  }

  /** Valid member records, sorted by id (frozen). */
  members(): readonly Member[] {
    const map = this.parsed().view.members;
    let list = memberLists.get(map);
    if (list === undefined) memberLists.set(map, (list = Object.freeze(sortedRecordValues(map))));
    return list;
  }

  /** One member record, if present and valid. */
  member(id: string): Member | undefined {
    return this.parsed().view.members.get(id);
  }

  /** The stored policy envelope, if any and well-formed. */
  policy(): PolicyEnvelope | undefined {
    // Read on every document change (PolicyStore.sync), so it does not build a snapshot of each
    // content a node passes through: the slot alone is read unless a snapshot exists already.
    const content = this.content();
    const parsed = content.parsed ?? parsedContents.peek(content.key);
    if (parsed !== undefined) return parsed.view.policy;
    return (content.policy ??= { value: readPolicy(this.backend, this.issue) }).value;
  }

  /** Valid verdicts by subject node id (keys in sorted order; frozen). */
  verdicts(): Readonly<Record<string, Verdict>> {
    return sortedRecord(this.parsed().view.verdicts);
  }

  /** Valid role records by node id (keys in sorted order; frozen). */
  roles(): Readonly<Record<string, RoleRecord>> {
    return sortedRecord(this.parsed().view.roles);
  }

  /** Names of drivers that have records, sorted. */
  drivers(): string[] {
    return [...this.parsed().view.drivers.keys()].sort();
  }

  /** One driver's records as JSON data, by key (sorted; frozen). Empty when the driver has none. */
  driverRecords(driver: string): Readonly<Record<string, JsonValue>> {
    return this.parsed().view.drivers.get(driver) ?? NO_RECORDS;
  }

  // ---- writers ------------------------------------------------------------------------------

  /** Writes this node's own member record (`members[self]`). Returns true when it changed. */
  writeOwnMember(record: Omit<Member, 'id'>): boolean {
    const next: Member = { id: this.self, ...record, labels: sortKeys(record.labels) };
    if (sameJson(this.member(this.self), next)) return false;
    return this.writeRecord('members', this.self, next, `member ${this.self}`);
  }

  /** Records a liveness verdict about `subject`, signed off by this node at the clock's time. */
  writeVerdict(subject: string, verdict: { status: VerdictStatus; incarnation: number }): boolean {
    const current = this.parsed().view.verdicts.get(subject);
    if (current !== undefined && current.status === verdict.status && current.incarnation === verdict.incarnation) return false;
    const next: Verdict = { status: verdict.status, incarnation: verdict.incarnation, by: this.self, at: this.clock.now() };
    return this.writeRecord('verdicts', subject, next, `verdict ${subject} ${verdict.status}`);
  }

  /** Writes this node's own role and progress (`roles[self]`). */
  writeOwnRole(record: { role: Role; phase: string; detail?: string | null; failedChanges?: number }): boolean {
    const current = this.parsed().view.roles.get(this.self);
    const detail = record.detail ?? null;
    const failedChanges = record.failedChanges ?? 0;
    if (current !== undefined && current.role === record.role && current.phase === record.phase && current.detail === detail && (current.failedChanges ?? 0) === failedChanges) return false;
    const next: RoleRecord = { role: record.role, phase: record.phase, detail, at: this.clock.now(), ...(failedChanges > 0 ? { failedChanges } : {}) };
    return this.writeRecord('roles', this.self, next, `role ${this.self} ${record.role}/${record.phase}`);
  }

  /** Writes one driver record `drivers[driver][key] = value` (replacing the previous value). */
  writeDriverRecord(driver: string, key: string, value: JsonValue): boolean {
    if (sameJson(this.driverRecords(driver)[key], value)) return false;
    return this.commit(`driver ${driver}.${key}`, (b) => {
      const drivers = this.mapIn('drivers');
      const entry = b.getWithType(drivers, driver) as [string, unknown] | null | undefined;
      const records = entry?.[0] === 'map' ? (entry[1] as string) : b.putObject(drivers, driver, {});
      putRecord(b, records, key, value);
    });
  }

  /** Replaces the policy envelope. Validation and version rules belong to the policy layer. */
  writePolicy(envelope: PolicyEnvelope): boolean {
    const next: PolicyEnvelope = { yaml: envelope.yaml, name: envelope.name, version: envelope.version, signature: envelope.signature, signer: envelope.signer };
    if (sameJson(this.policy(), next)) return false;
    return this.commit(`policy ${next.name} v${next.version}`, (b) => {
      const policy = this.mapIn('policy');
      for (const [k, v] of Object.entries(next)) putValue(b, policy, k, v as JsonValue);
    });
  }

  /**
   * Writes an empty change that depends on every current head, so the document has one head
   * again. Concurrent writes (a fleet joining at once) leave one head per writer, and every
   * heads read and sync message grows with them. Returns false when there is one head already.
   */
  mergeHeads(): boolean {
    if (this.content().heads.length <= 1) return false;
    return this.commit('merge heads', (b, message, time) => b.emptyChange(message, time));
  }

  // ---- replication --------------------------------------------------------------------------

  /** Checks encoded changes as {@link applyChanges} does, without applying them; returns their hashes. Throws ChangeRejectedError. */
  verifyChanges(changes: readonly Uint8Array[]): string[] {
    return changes.map((c) => verifyChange(c));
  }

  /**
   * Applies encoded changes from a peer. A change whose dependencies are missing waits beside
   * the document (causal-batch.ts) until they arrive, and is applied then (see
   * {@link missingDeps}). Throws {@link ChangeRejectedError} and leaves the document unchanged
   * when any change is malformed or refused.
   */
  applyChanges(received: Uint8Array[]): void {
    this.applyBatch(received, this.verifyChanges(received));
  }

  /**
   * Applies verified changes together with the pending local writes (the handle holds neither
   * yet) and the waiting ones: those whose dependencies are all present, in one call; the rest
   * wait. Moves to the stored content instead when another document built the result already.
   */
  private applyBatch(received: readonly Uint8Array[], verified: readonly string[]): void {
    // Oldest first: what waited already, what arrived, what this node wrote.
    const candidates = new Map<string, Uint8Array>(this.waiting);
    received.forEach((change, i) => candidates.set(verified[i] as string, change));
    for (const w of this.pending) candidates.set(w.hash, w.change);
    const hashes = [...candidates.keys()];
    const headers = new Map<string, ChangeHeader>();
    for (const hash of hashes) {
      const header = changeHeader(candidates.get(hash) as Uint8Array);
      if (header === undefined) throw new ChangeRejectedError('undecodable', `change ${hash} has a header that does not read`);
      headers.set(hash, header);
    }
    const fromWaiting = new Set(this.waiting.keys());
    const plan = this.plan(hashes, headers);
    if (plan !== undefined) {
      this.wait(hashes.filter((h) => plan.waiting.has(h)), candidates);
      const states = this.sharedStates;
      const key = plan.heads === undefined ? undefined : contentKeyOf(this.cluster, plan.heads);
      if (key !== undefined && states?.has(key) === true) {
        const before = this.content().heads;
        this.moveTo(key);
        this.emitIfMoved(before);
        return;
      }
      if (plan.ready.size === 0) return;
      this.applyToHandle(hashes.filter((h) => plan.ready.has(h)), headers, candidates, fromWaiting);
      return;
    }
    // Unplanned (Automerge queues changes of a sync message already): everything goes to
    // Automerge, which queues what it must.
    this.waiting.clear();
    this.applyToHandle(hashes, headers, candidates, fromWaiting);
  }

  /**
   * How many waiting changes went down with a refused batch since the last call (and resets the
   * count): they are no longer listed by {@link missingDeps}, so the caller syncs to get back
   * those that were sound.
   */
  takeRefusedWaiting(): number {
    const count = this.refusedWaiting;
    this.refusedWaiting = 0;
    return count;
  }

  /**
   * What applying changes `hashes` (with these headers) to the handle does, kept by the
   * handle's content and the batch ({@link plans}); undefined when it cannot be worked out
   * here — Automerge has queued changes itself (a sync message can leave some), whose hashes
   * its missing-dependency lookup does not report.
   */
  private plan(hashes: readonly string[], headers: ReadonlyMap<string, ChangeHeader>): BatchPlan | undefined {
    if (this.sharedKey === undefined && this.backend.getMissingDeps([]).length > 0) return undefined;
    const handleHeads = this.handleHeads();
    // The batch by digest: with many changes waiting it names thousands of hashes.
    const batch = `${contentKeyOf(this.cluster, handleHeads)}|${createHash('sha256').update([...hashes].sort().join(',')).digest('hex')}`;
    return plans.getOrCompute(batch, () =>
      planBatch(handleHeads, hashes.map((hash) => ({ hash, deps: (headers.get(hash) as ChangeHeader).deps })), (asked) => new Set(this.backend.getMissingDeps(asked))),
    );
  }

  /**
   * Keeps `hashes` (in arrival order; at most {@link MAX_WAITING_CHANGES}, the oldest dropped) as
   * the waiting changes, each a copy of its own bytes (a received change is a view of its whole
   * envelope, up to megabytes for a sync or fetch answer).
   */
  private wait(hashes: readonly string[], candidates: ReadonlyMap<string, Uint8Array>): void {
    const before = new Map(this.waiting);
    this.waiting.clear();
    for (const hash of hashes.slice(-MAX_WAITING_CHANGES)) this.waiting.set(hash, before.get(hash) ?? Uint8Array.from(candidates.get(hash) as Uint8Array));
    if (hashes.length > MAX_WAITING_CHANGES) this.logger.warn({ dropped: hashes.length - MAX_WAITING_CHANGES }, 'too many changes waiting for missing dependencies; dropped the oldest (sync fetches them again)');
  }

  /** Applies changes `apply` (in author order) to the handle, owned for it. */
  private applyToHandle(apply: readonly string[], headers: ReadonlyMap<string, ChangeHeader>, candidates: ReadonlyMap<string, Uint8Array>, fromWaiting: ReadonlySet<string>): void {
    // By author: Automerge keeps its actor table sorted and rewrites the document's actor columns
    // for every new actor that does not sort after all known ones, so a burst of newcomers'
    // changes (actor ids start with their creation time) applied in actor order appends them
    // (4 ms for 80 new actors in a 1,000-actor document) where arrival order can cost 10× that.
    const ordered = [...apply].sort((a, b) => compareActors(headers.get(a)?.actor, headers.get(b)?.actor));
    const before = this.content().heads;
    const backend = this.own();
    try {
      backend.applyChanges(ordered.map((h) => candidates.get(h) as Uint8Array));
    } catch (err) {
      // Refused as a whole: the changes that waited are gone with the batch (takeRefusedWaiting).
      this.refusedWaiting += apply.filter((h) => fromWaiting.has(h)).length;
      throw new ChangeRejectedError('rejected-by-automerge', err instanceof Error ? err.message : String(err), { cause: err });
    } finally {
      // What the handle now holds is no longer pending; what a refused batch left out goes in alone.
      this.pending = this.pending.filter((w) => backend.getChangeMetaByHash(w.hash) === null);
      if (this.pending.length > 0) backend.applyChanges(this.pending.map((w) => w.change));
      this.pending = [];
      this.moved();
      this.settle();
    }
    this.emitIfMoved(before);
  }

  /**
   * Hashes of changes we know exist but do not have: the dependencies of changes waiting for
   * them, beside the document or in Automerge's own queue.
   */
  missingDeps(): string[] {
    const deps = new Set<string>();
    for (const change of this.waiting.values()) for (const dep of changeHeader(change)?.deps ?? []) if (!this.waiting.has(dep)) deps.add(dep);
    for (const w of this.pending) deps.delete(w.hash);
    return [...new Set(this.backend.getMissingDeps([...deps]))].sort();
  }

  /** Changes received that wait beside the document for a missing dependency. */
  waitingCount(): number {
    return this.waiting.size;
  }

  /** True when the document contains every change in `heads`. */
  hasHeads(heads: readonly string[]): boolean {
    try {
      return heads.every((h) => this.backend.getChangeMetaByHash(h) !== null || this.pending.some((w) => w.hash === h));
    } catch {
      return false;
    }
  }

  /** The encoded changes with these hashes that this document holds (others are left out). */
  changesByHash(hashes: readonly string[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const hash of hashes) {
      const change = this.pending.find((w) => w.hash === hash)?.change ?? this.backend.getChangeByHash(hash);
      if (change !== null && change !== undefined) out.push(change);
    }
    return out;
  }

  /** A sync state for a peer we have not synced with; {@link PeerSyncState.free} it when dropped. */
  newSyncState(): PeerSyncState {
    return newPeerSyncState();
  }

  /**
   * Makes the next sync message for this peer send every change its latest message says it
   * lacks, including changes sent before whose delivery nothing confirmed (see Replicator's
   * sync handler).
   */
  forgetSentChanges(state: PeerSyncState): void {
    forgetSentChanges(state);
  }

  /** Next sync message for the peer whose state this is (updated in place); null when there is nothing to say. */
  generateSyncMessage(state: PeerSyncState): Uint8Array | null {
    this.applyPending();
    return generateSyncMessage(this.backend, state);
  }

  /**
   * Applies a peer's sync message, updating its sync state in place. Throws
   * {@link ChangeRejectedError} and leaves the document unchanged when it is malformed or
   * refused; the state may then be stale, so the caller should start over with a new one.
   */
  receiveSyncMessage(state: PeerSyncState, message: Uint8Array): void {
    const entries = verifySyncMessage(message);
    this.applyPending();
    const before = this.content().heads;
    const adopted = entries.length === 1 ? this.adoptionFor(entries[0] as Uint8Array) : undefined;
    if (adopted !== undefined) {
      try {
        // Every change the message carries is in the copy already: this only moves the sync state.
        receiveOn(adopted, state, message);
      } catch (err) {
        adopted.free();
        throw err;
      }
      this.replaceHandle(adopted);
    } else {
      // A message without changes only updates the peer's sync state: a shared handle serves.
      try {
        receiveOn(entries.length === 0 ? this.backend : this.own(), state, message);
      } finally {
        this.moved();
        this.settle();
      }
    }
    this.emitIfMoved(before);
    if (entries.length > 0 && this.waiting.size > 0) this.applyWaiting();
  }

  /**
   * Simulated fleets only (shared states): when `entry` is the sender's whole document
   * ({@link documentChunkHeads}) and that content is stored, a copy of it with this document's
   * own changes that it lacks (at most MAX_ADOPTED_OWN_CHANGES) — the content receiving the
   * message would give, since the message carries every change of the sender's document —
   * built without loading the sender's document again (a 1,000-member one took ~20 ms to load
   * into a newcomer, ~1 ms as a copy). Undefined when it cannot be built that way.
   */
  private adoptionFor(entry: Uint8Array): Backend | undefined {
    const states = this.sharedStates;
    if (states === undefined) return undefined;
    const heads = documentChunkHeads(entry);
    if (heads === undefined || heads.length === 0) return undefined;
    const key = contentKeyOf(this.cluster, heads);
    if (key === this.sharedKey) return undefined;
    // Changes Automerge holds back for missing dependencies are not in the history copied below.
    if (this.sharedKey === undefined && this.backend.getMissingDeps([]).length > 0) return undefined;
    const sender = states.peek(key);
    if (sender === undefined) return undefined;
    const own = this.changesNotIn(sender);
    if (own === undefined) return undefined;
    const copy = sender.fork(this.actor);
    try {
      if (own.length > 0) copy.applyChanges(own.sort((a, b) => compareActors(changeHeader(a)?.actor, changeHeader(b)?.actor)));
    } catch (err) {
      copy.free();
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "could not copy the sender's stored document; loading the one it sent");
      return undefined;
    }
    states.adopted();
    return copy;
  }

  /**
   * This document's changes that `other` lacks; undefined when there are more than
   * MAX_ADOPTED_OWN_CHANGES. Counted first from the heads back, a walk that stops at changes
   * `other` holds (a document behind it costs a lookup per head), and only then read out
   * (Automerge re-encodes each change it returns).
   */
  private changesNotIn(other: Backend): Uint8Array[] | undefined {
    const seen = new Set<string>();
    let lacking = 0;
    // `other` is a stored content (nothing queued), so its missing dependencies among the hashes
    // asked are exactly those it does not hold: one lookup per generation of the walk.
    for (let asked = this.handleHeads(); asked.length > 0; ) {
      const next: string[] = [];
      for (const hash of other.getMissingDeps([...asked])) {
        if (seen.has(hash)) continue;
        seen.add(hash);
        const meta = this.backend.getChangeMetaByHash(hash);
        if (meta === null || ++lacking > MAX_ADOPTED_OWN_CHANGES) return undefined;
        next.push(...meta.deps);
      }
      asked = next;
    }
    return lacking === 0 ? [] : other.getChangesAdded(this.backend);
  }

  /** Makes `backend` (owned by this document alone) its handle, letting go of the one it had. */
  private replaceHandle(backend: Backend): void {
    if (this.sharedKey !== undefined) this.sharedStates?.release(this.sharedKey);
    else this.backend.free();
    this.sharedKey = undefined;
    this.backend = backend;
    this.moved();
    this.settle();
  }

  /** After a sync message: the waiting changes its changes completed go in (and those it brought are forgotten). */
  private applyWaiting(): void {
    try {
      this.applyBatch([], []);
    } catch (err) {
      // Refused: counted by applyToHandle; the sync session under way fetches what was sound.
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'changes that waited for their dependencies were refused; dropped');
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  /**
   * After every apply and commit: a new version for the readers, and the handle's patch log
   * truncated — it records patches for Automerge's JS layer, which is never used here, and
   * would otherwise grow with every change received.
   */
  private moved(): void {
    this.version++;
    if (this.sharedKey === undefined) this.backend.updateDiffCursor();
  }

  /**
   * The handle, owned alone, for a change: a shared one is taken over when this document is its
   * only holder and it writes as this actor, and forked otherwise (copy-on-write).
   */
  private own(): Backend {
    const key = this.sharedKey;
    const states = this.sharedStates;
    if (key === undefined || states === undefined) return this.backend;
    this.sharedKey = undefined;
    const sole = states.takeOver(key, this.actor);
    if (sole !== undefined) return (this.backend = sole);
    const copy = this.backend.fork(this.actor);
    states.release(key);
    states.forked();
    return (this.backend = copy);
  }

  /** Moves this document to the stored content `key` (see {@link applyBatch}), letting go of its handle. */
  private moveTo(key: string): void {
    const states = this.sharedStates;
    const stored = states?.acquire(key);
    if (states === undefined || stored === undefined) throw new Error(`invariant: content ${key.slice(0, 40)} is not stored`);
    if (this.sharedKey !== undefined) states.release(this.sharedKey);
    else this.backend.free();
    this.backend = stored;
    this.sharedKey = key;
    this.pending = [];
    this.moved();
  }

  /**
   * After a change: hands the handle to the shared states when its content is fully described
   * by its heads (no changes queued for missing dependencies), adopting the stored handle when
   * an equal content is stored already.
   */
  private settle(): void {
    const states = this.sharedStates;
    if (states === undefined || this.sharedKey !== undefined) return;
    if (this.backend.getMissingDeps([]).length > 0) return;
    const key = this.content().key;
    this.backend = states.share(key, this.backend);
    this.sharedKey = key;
  }

  private content(): Content {
    if (this.current?.version !== this.version) {
      const heads = this.pending.length === 0 ? this.handleHeads() : headsAfter(this.handleHeads(), this.pending);
      if (this.current !== undefined && sameHeads(this.current.heads, heads)) this.current.version = this.version;
      else {
        const headSet: HeadSet = { list: heads };
        this.current = { version: this.version, heads, headSet, key: contentKeyOf(this.cluster, heads), parsed: undefined };
        this.recentHeads.push(headSet);
        if (this.recentHeads.length > RECENT_HEAD_SETS) this.recentHeads.shift();
      }
    }
    return this.current;
  }

  /** The parsed snapshot of the current content: shared, advanced from the last one, or read in full. */
  private parsed(): ParsedContent {
    const content = this.content();
    if (content.parsed === undefined) {
      if (this.pending.length === 0) content.parsed = this.handleParsed(content.key, content.heads);
      else {
        const heads = this.handleHeads();
        const base = this.handleParsed(contentKeyOf(this.cluster, heads), heads);
        content.parsed = parsedContents.getOrCompute(content.key, () => ({ view: withRecords(base.view, content.heads, this.pending, this.issue) }));
      }
    }
    return content.parsed;
  }

  /** The parsed snapshot of what the handle holds (content `key`, `heads`). */
  private handleParsed(key: string, heads: readonly string[]): ParsedContent {
    const parsed = parsedContents.getOrCompute(key, () => {
      const last = this.lastView;
      const view = last !== undefined && last.heads.every((h) => this.backend.getChangeMetaByHash(h) !== null) ? advanceView(this.backend, last, heads, this.issue) : readView(this.backend, heads, this.issue);
      return { view };
    });
    this.lastView = parsed.view;
    return parsed;
  }

  /** The handle's heads, sorted (without pending writes); read once per version (hundreds of hashes while a large fleet writes at once). */
  private handleHeads(): readonly string[] {
    if (this.handleHeadsAt?.version !== this.version) this.handleHeadsAt = { version: this.version, heads: this.backend.getHeads().slice().sort() };
    return this.handleHeadsAt.heads;
  }

  /** Reports a schema issue once per (path, reason). Arrow function: passed as a callback. */
  private readonly issue = (path: string, reason: string): void => {
    const key = `${path}\u0000${reason}`;
    if (this.warned.has(key)) return;
    if (this.warned.size < MAX_REMEMBERED_WARNINGS) this.warned.add(key);
    this.logger.warn({ path, reason }, 'ignoring cluster document entry that does not fit the schema');
  };

  /** The object id of a top-level map this node writes into; DocumentShapeError when it is not a map. */
  private mapIn(name: TopLevelMap): string {
    const entry = this.backend.getWithType('_root', name) as [string, unknown] | null | undefined;
    if (entry?.[0] !== 'map') throw new DocumentShapeError(name);
    return entry[1] as string;
  }

  /**
   * Makes one local change (`write` puts ops into the open transaction, or commits an empty
   * change itself) stamped with the commit message and the clock's time in whole seconds, and
   * emits it. A write that throws is rolled back. False when nothing changed.
   */
  private commit(message: string, write: (backend: Backend, message: string, time: number) => unknown): boolean {
    this.applyPending();
    const before = this.content().heads;
    const time = Math.floor(this.clock.now() / 1000);
    const backend = this.own();
    let change: Uint8Array | undefined;
    try {
      write(backend, message, time);
      backend.commit(message, time);
      this.moved();
      // Read before settle(): only this handle knows it as its last local change.
      if (!sameHeads(before, this.content().heads)) change = backend.getLastLocalChange() ?? undefined;
    } catch (err) {
      backend.rollback();
      this.moved();
      throw err;
    } finally {
      this.settle();
    }
    const heads = this.content().heads;
    if (sameHeads(before, heads)) return false;
    this.localSeq++;
    this.lastLocalHash = change === undefined ? undefined : verifyChange(change);
    this.emit({ origin: 'local', heads: heads.slice(), ...(change === undefined ? {} : { change, base: before }) });
    return true;
  }

  /**
   * Writes one record `map[key]`: on a shared handle as a pending write (pending-writes.ts),
   * else as a commit. Either way the same change, emitted the same way.
   */
  private writeRecord(map: KeyedMap, key: string, record: JsonValue | object, message: string): boolean {
    if (this.sharedKey === undefined) return this.commit(message, (b) => putRecord(b, this.mapIn(map), key, record));
    const heads = this.content().heads;
    const handleMaxOp = maxOps.getOrCompute(this.sharedKey, () => maxOpOf(this.backend));
    const write = encodeRecordPut(this.backend, this.pending, heads, {
      actor: this.actor,
      seq: this.localSeq + 1,
      previous: this.lastLocalHash,
      time: Math.floor(this.clock.now() / 1000),
      message,
      obj: this.mapIn(map),
      map,
      key,
      text: recordText(record as JsonValue),
    }, handleMaxOp);
    this.pending.push(write);
    this.localSeq++;
    this.lastLocalHash = write.hash;
    this.version++;
    this.emit({ origin: 'local', heads: this.content().heads.slice(), change: write.change, base: heads });
    return true;
  }

  /** Puts the pending writes into the handle (a copy of it when shared), for what needs them there. */
  private applyPending(): void {
    if (this.pending.length === 0) return;
    const changes = this.pending.map((w) => w.change);
    const backend = this.own();
    this.pending = [];
    backend.applyChanges(changes);
    this.moved();
    this.settle();
  }

  private emitIfMoved(before: readonly string[]): void {
    const heads = this.content().heads;
    if (!sameHeads(before, heads)) this.emit({ origin: 'remote', heads: heads.slice() });
  }

  private emit(event: DocChangeEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err }, 'cluster document listener threw');
      }
    }
  }
}

/** Orders actor ids (hex keeps the byte order Automerge sorts by) ascending; unreadable headers last. */
/** Automerge's receiveSyncMessage on `backend`, its refusal as a {@link ChangeRejectedError}. */
function receiveOn(backend: Backend, state: PeerSyncState, message: Uint8Array): void {
  try {
    receiveSyncMessage(backend, state, message);
  } catch (err) {
    throw new ChangeRejectedError('rejected-by-automerge', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

function compareActors(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a < b ? -1 : 1;
}

const NO_RECORDS: Readonly<Record<string, JsonValue>> = Object.freeze({});

/** A map's values in the order of its sorted keys. */
function sortedRecordValues<T>(map: ReadonlyMap<string, T>): T[] {
  return [...map.keys()].sort().map((k) => map.get(k) as T);
}

function sortKeys(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k] as string;
  return out;
}
