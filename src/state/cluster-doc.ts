/**
 * The cluster document: one Automerge document per cluster, with typed, defensive readers and
 * typed writers for what this node may write. Heads, apply and sync are DocReplica's
 * (doc-replica.ts); this is the schema on top.
 *
 * Contract:
 * - Every document starts from the cluster's deterministic genesis ({@link genesis}).
 * - This node writes with its own actor id, new each time a ClusterDoc is created or loaded:
 *   a fixed prefix, the clock's time, then bytes from the injected Random (see
 *   {@link freshActor}). It is never persisted, so it is never reused after a restart or after
 *   state loss (see docs/STATE.md, "Actor ids").
 * - Readers never throw: an entry that does not fit the schema is skipped and logged once
 *   (per path and reason) at `warn`.
 * - Readers return frozen values from a {@link DocumentView}: one parsed snapshot per set of
 *   heads, advanced from the previous one by re-reading only the entries that changed. With
 *   {@link DocHandles.views} (a simulated fleet) snapshots are shared by every document holding
 *   the same heads; a node that reads content another node parsed first logs no schema
 *   warnings for it — the first parse did.
 * - Writers touch only what this node owns: its member record, its role, verdicts it
 *   declares, driver records and the policy envelope. A writer that would not change anything
 *   makes no Automerge change and returns false.
 */
import type { Clock } from '../seams/clock.js';
import type { Random } from '../seams/random.js';
import { createBackend, loadBackend, putValue, type Backend } from './automerge-backend.js';
import { contentKeyOf, ownedHandles, type DocHandle, type DocHandles } from './doc-handle.js';
import { DocReplica } from './doc-replica.js';
import { advanceView, readPolicy, readView, withRecords, type DocumentView, type KeyedMap } from './document-view.js';
import { recordText } from './record-text.js';
import type { ContentCache } from '../util/content-cache.js';
import { DocumentLoadError, DocumentShapeError } from './errors.js';
import { assertClusterName, genesis } from './genesis.js';
import type { StateLogger } from './logger.js';
import type { JsonValue, Member, PolicyEnvelope, Role, RoleRecord, TopLevelMap, Verdict, VerdictStatus } from './schema.js';

export { MAX_WAITING_CHANGES, type DocChangeEvent, type DocChangeListener, type PeerSyncState } from './doc-replica.js';

export interface ClusterDocInit {
  /** Cluster name (1-63 of [a-z0-9-]); decides the genesis. */
  cluster: string;
  /** This node's id (its mesh peer id): the key of its member and role records. */
  self: string;
  clock: Clock;
  random: Random;
  logger: StateLogger;
  /**
   * Where the document's Automerge handle lives (doc-handle.ts): the simulator shares handles
   * and snapshots between documents holding the same content. @default ownedHandles (the daemon)
   */
  docHandles?: DocHandles;
}

/** At most this many distinct schema warnings are remembered for de-duplication. */
const MAX_REMEMBERED_WARNINGS = 1_000;

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

export class ClusterDoc extends DocReplica {
  readonly self: string;
  private readonly warned = new Set<string>();
  private readonly views: ContentCache<DocumentView> | undefined;
  /** The snapshot of the content `key` (the current one, once read). */
  private snapshot: { readonly key: string; readonly view: DocumentView } | undefined;
  /** The policy slot of content `key`, read on its own while no snapshot was needed (see {@link policy}). */
  private policySlot: { readonly key: string; readonly value: PolicyEnvelope | undefined } | undefined;
  /** The last snapshot this document built or adopted of its handle: what the next one is advanced from. */
  private lastView: DocumentView | undefined;

  private constructor(handle: DocHandle, init: ClusterDocInit, views: ContentCache<DocumentView> | undefined, actor: string) {
    super(handle, { cluster: init.cluster, actor, clock: init.clock, logger: init.logger, plans: init.docHandles?.plans });
    this.self = init.self;
    this.views = views;
  }

  /** A fresh document holding only the genesis change, with a new random actor id. */
  static create(init: ClusterDocInit): ClusterDoc {
    assertClusterName(init.cluster);
    const actor = freshActor(init.clock, init.random);
    const backend = createBackend(actor);
    backend.applyChanges([genesis(init.cluster).change]);
    const doc = ClusterDoc.open(backend, init, actor);
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
    const doc = ClusterDoc.open(backend, init, actor);
    if (!doc.hasHeads([genesis(init.cluster).hash])) {
      backend.free();
      throw new DocumentLoadError('foreign-cluster', `document does not contain the genesis of cluster ${init.cluster}`);
    }
    doc.settle();
    return doc;
  }

  private static open(backend: Backend, init: ClusterDocInit, actor: string): ClusterDoc {
    const handles = init.docHandles ?? ownedHandles;
    return new ClusterDoc(handles.open(backend, { cluster: init.cluster, actor, logger: init.logger }), init, handles.views, actor);
  }

  // ---- readers (never throw) ---------------------------------------------------------------

  /** Valid member records, sorted by id (frozen). */
  members(): readonly Member[] {
    const map = this.view().members;
    let list = memberLists.get(map);
    if (list === undefined) memberLists.set(map, (list = Object.freeze(sortedRecordValues(map))));
    return list;
  }

  /** One member record, if present and valid. */
  member(id: string): Member | undefined {
    return this.view().members.get(id);
  }

  /** The stored policy envelope, if any and well-formed. */
  policy(): PolicyEnvelope | undefined {
    // Read on every document change (PolicyStore.sync), so it does not build a snapshot of each
    // content a node passes through: the slot alone is read unless a snapshot exists already.
    const { key } = this.content();
    const view = this.snapshot?.key === key ? this.snapshot.view : this.views?.peek(key);
    if (view !== undefined) return view.policy;
    if (this.policySlot?.key !== key) this.policySlot = { key, value: readPolicy(this.handle.backend, this.issue) };
    return this.policySlot.value;
  }

  /** Valid verdicts by subject node id (keys in sorted order; frozen). */
  verdicts(): Readonly<Record<string, Verdict>> {
    return sortedRecord(this.view().verdicts);
  }

  /** Valid role records by node id (keys in sorted order; frozen). */
  roles(): Readonly<Record<string, RoleRecord>> {
    return sortedRecord(this.view().roles);
  }

  /** Names of drivers that have records, sorted. */
  drivers(): string[] {
    return [...this.view().drivers.keys()].sort();
  }

  /** One driver's records as JSON data, by key (sorted; frozen). Empty when the driver has none. */
  driverRecords(driver: string): Readonly<Record<string, JsonValue>> {
    return this.view().drivers.get(driver) ?? NO_RECORDS;
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
    const current = this.view().verdicts.get(subject);
    if (current !== undefined && current.status === verdict.status && current.incarnation === verdict.incarnation) return false;
    const next: Verdict = { status: verdict.status, incarnation: verdict.incarnation, by: this.self, at: this.clock.now() };
    return this.writeRecord('verdicts', subject, next, `verdict ${subject} ${verdict.status}`);
  }

  /** Writes this node's own role and progress (`roles[self]`). */
  writeOwnRole(record: { role: Role; phase: string; detail?: string | null; failedChanges?: number }): boolean {
    const current = this.view().roles.get(this.self);
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

  // ---- internals ----------------------------------------------------------------------------

  /** The snapshot of the current content: kept, shared, advanced from the last one, or read in full. */
  private view(): DocumentView {
    const { key, heads } = this.content();
    if (this.snapshot?.key !== key) this.snapshot = { key, view: this.viewOf(key, heads) };
    return this.snapshot.view;
  }

  /** The snapshot of content `key`, `heads`: the handle's, with its pending writes on top. */
  private viewOf(key: string, heads: readonly string[]): DocumentView {
    const pending = this.handle.pending;
    if (pending.length === 0) return this.handleView(key, heads);
    const handleHeads = this.handleHeads();
    const base = this.handleView(contentKeyOf(this.cluster, handleHeads), handleHeads);
    return cached(this.views, key, () => withRecords(base, heads, pending, this.issue));
  }

  /** The snapshot of what the handle holds (content `key`, `heads`). */
  private handleView(key: string, heads: readonly string[]): DocumentView {
    const backend = this.handle.backend;
    const view = cached(this.views, key, () => {
      const last = this.lastView;
      return last !== undefined && last.heads.every((h) => backend.getChangeMetaByHash(h) !== null) ? advanceView(backend, last, heads, this.issue) : readView(backend, heads, this.issue);
    });
    this.lastView = view;
    return view;
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
    const entry = this.handle.backend.getWithType('_root', name) as [string, unknown] | null | undefined;
    if (entry?.[0] !== 'map') throw new DocumentShapeError(name);
    return entry[1] as string;
  }

  /** Writes one record `map[key]`: beside a shared handle (DocHandle.defer), else as a commit. Either way the same change, emitted the same way. */
  private writeRecord(map: KeyedMap, key: string, record: JsonValue | object, message: string): boolean {
    if (!this.handle.shared) return this.commit(message, (b) => putRecord(b, this.mapIn(map), key, record));
    return this.deferWrite({ message, obj: this.mapIn(map), map, key, text: recordText(record as JsonValue) });
  }
}

/** `compute()`, kept in `cache` by `key` when there is a cache. */
function cached<V>(cache: ContentCache<V> | undefined, key: string, compute: () => V): V {
  return cache === undefined ? compute() : cache.getOrCompute(key, compute);
}

/** Writes a record as one JSON-text scalar (record-text.ts), replacing whatever `map[key]` held. */
function putRecord(backend: Backend, map: string, key: string, record: JsonValue | object): void {
  backend.put(map, key, recordText(record as JsonValue), 'str');
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
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
