/**
 * The cluster document: one Automerge document per cluster, with typed, defensive readers and
 * typed writers for what this node may write.
 *
 * Contract:
 * - Every document starts from the cluster's deterministic genesis ({@link genesis}).
 * - This node writes with its own actor id, drawn from the injected Random each time a
 *   ClusterDoc is created or loaded. It is never persisted, so it is never reused after a
 *   restart or after state loss (see docs/STATE.md, "Actor ids").
 * - Change timestamps are the injected Clock's time in whole seconds.
 * - Readers never throw: an entry that does not fit the schema is skipped and logged once
 *   (per path and reason) at `warn`.
 * - Readers return frozen values, parsed once per document content: the parse is cached by
 *   heads in a process-wide {@link ContentCache} (a simulated fleet's nodes holding the same
 *   document share it). A node that reads content another node parsed first logs no schema
 *   warnings for it; the first parse did.
 * - Writers touch only what this node owns: its member record, its role, verdicts it
 *   declares, driver records and the policy envelope. A writer that would not change anything
 *   makes no Automerge change and returns false.
 * - Remote bytes go through {@link ClusterDoc.applyChanges} / {@link ClusterDoc.receiveSyncMessage},
 *   which either apply them or throw {@link ChangeRejectedError} and leave the document unchanged.
 *
 * Not thread-safe by design: one event loop owns the instance. Listeners run synchronously after
 * each change, in registration order.
 */
import { createHash } from 'node:crypto';
import * as Automerge from '@automerge/automerge';
import type { Clock } from '../seams/clock.js';
import type { Random } from '../seams/random.js';
import { verifyChange, verifySyncMessage } from './change-bytes.js';
import { ContentCache, deepFreeze } from '../util/content-cache.js';
import { ChangeRejectedError, DocumentLoadError, DocumentShapeError } from './errors.js';
import { assertClusterName, genesis } from './genesis.js';
import type { StateLogger } from './logger.js';
import {
  isMap,
  parseDriverRecord,
  parseMember,
  parsePolicy,
  parseRole,
  parseVerdict,
  readString,
  type JsonValue,
  type Member,
  type PolicyEnvelope,
  type Role,
  type RoleRecord,
  type SchemaIssueSink,
  type TopLevelMap,
  type Verdict,
  type VerdictStatus,
} from './schema.js';

type Raw = Record<string, unknown>;

export interface ClusterDocInit {
  /** Cluster name (1-63 of [a-z0-9-]); decides the genesis. */
  cluster: string;
  /** This node's id (its mesh peer id): the key of its member and role records. */
  self: string;
  clock: Clock;
  random: Random;
  logger: StateLogger;
}

/** What changed: emitted after every local write and every remote apply that moved the heads. */
export interface DocChangeEvent {
  origin: 'local' | 'remote';
  /** The document's heads after the change, sorted. */
  heads: string[];
  /** For local writes: the encoded change to broadcast. */
  change?: Uint8Array;
}

export type DocChangeListener = (event: DocChangeEvent) => void;

/** At most this many distinct schema warnings are remembered for de-duplication. */
const MAX_REMEMBERED_WARNINGS = 1_000;

/** What the readers parsed from one document content, filled lazily. */
interface ParsedContent {
  members?: readonly Member[];
  verdicts?: Readonly<Record<string, Verdict>>;
  roles?: Readonly<Record<string, RoleRecord>>;
  /** The policy envelope; null when there is none (or it is malformed). */
  policy?: PolicyEnvelope | null;
  drivers: Map<string, Readonly<Record<string, JsonValue>>>;
}

/** The heads of one document value and what is derived from them. */
interface Content {
  /** {@link ClusterDoc} version it was read at. */
  version: number;
  /** Sorted. */
  heads: readonly string[];
  key: string;
  digest: string | undefined;
  parsed: ParsedContent;
}

/** Parsed contents by {@link ClusterDoc.contentKey}, shared by every ClusterDoc in the process. */
const parsedContents = new ContentCache<ParsedContent>(64);

/** Converts plain data into what we write: strings become ImmutableString (LWW scalars). */
function toAutomerge(value: JsonValue): unknown {
  if (typeof value === 'string') return new Automerge.ImmutableString(value);
  if (Array.isArray(value)) return value.map(toAutomerge);
  if (value !== null && typeof value === 'object') {
    const out: Raw = {};
    for (const k of Object.keys(value).sort()) out[k] = toAutomerge(value[k] as JsonValue);
    return out;
  }
  return value;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The backend's heads, sorted (current even while the JS document lags). */
function sortedHeads(doc: Automerge.Doc<Raw>): string[] {
  return Automerge.getBackend(doc).getHeads().slice().sort();
}

function freshActor(random: Random): string {
  return Buffer.from(random.bytes(16)).toString('hex');
}

export class ClusterDoc {
  readonly cluster: string;
  readonly self: string;
  /** This node's actor id for this incarnation of the document (hex, 16 bytes). */
  readonly actor: string;
  private doc: Automerge.Doc<Raw>;
  private readonly clock: Clock;
  private readonly logger: StateLogger;
  private readonly listeners = new Set<DocChangeListener>();
  private readonly warned = new Set<string>();
  /** The content key and parsed content of `doc` (Automerge documents are immutable values). */
  private current: Content | undefined;
  /** Incremented by every local write and remote apply. */
  private version = 0;


  private constructor(doc: Automerge.Doc<Raw>, init: ClusterDocInit, actor: string) {
    this.doc = doc;
    this.cluster = init.cluster;
    this.self = init.self;
    this.actor = actor;
    this.clock = init.clock;
    this.logger = init.logger;
  }

  /** A fresh document holding only the genesis change, with a new random actor id. */
  static create(init: ClusterDocInit): ClusterDoc {
    assertClusterName(init.cluster);
    const actor = freshActor(init.random);
    const [doc] = Automerge.applyChanges(Automerge.init<Raw>({ actor }), [genesis(init.cluster).change]);
    return new ClusterDoc(doc, init, actor);
  }

  /**
   * A document from `Automerge.save` bytes, with a new random actor id.
   * Throws {@link DocumentLoadError}: 'undecodable' when Automerge refuses the bytes,
   * 'foreign-cluster' when they lack this cluster's genesis.
   */
  static load(bytes: Uint8Array, init: ClusterDocInit): ClusterDoc {
    assertClusterName(init.cluster);
    const actor = freshActor(init.random);
    let doc: Automerge.Doc<Raw>;
    try {
      doc = Automerge.load<Raw>(bytes, { actor });
    } catch (err) {
      throw new DocumentLoadError('undecodable', err instanceof Error ? err.message : String(err), { cause: err });
    }
    if (!Automerge.hasHeads(doc, [genesis(init.cluster).hash])) {
      throw new DocumentLoadError('foreign-cluster', `document does not contain the genesis of cluster ${init.cluster}`);
    }
    return new ClusterDoc(doc, init, actor);
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
    const content = this.content();
    return (content.digest ??= content.heads.length === 1 ? content.heads[0]! : createHash('sha256').update(content.heads.join(',')).digest('hex'));
  }

  /** The whole document (`Automerge.save`), compact, for persistence. */
  save(): Uint8Array {
    return Automerge.save(this.doc);
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
    const parsed = this.content().parsed;
    return (parsed.members ??= deepFreeze(Object.values(this.entries('members', parseMember))));
  }

  /** One member record, if present and valid. */
  member(id: string): Member | undefined {
    const parsed = this.content().parsed;
    if (parsed.members !== undefined) return parsed.members.find((m) => m.id === id);
    const map = this.topLevel('members');
    return Object.prototype.hasOwnProperty.call(map, id) ? parseMember(id, map[id], this.issue) : undefined;
  }

  /** The stored policy envelope, if any and well-formed. */
  policy(): PolicyEnvelope | undefined {
    const parsed = this.content().parsed;
    parsed.policy ??= deepFreeze(parsePolicy(this.read('policy'), this.issue)) ?? null;
    return parsed.policy ?? undefined;
  }

  /** Valid verdicts by subject node id (keys in sorted order; frozen). */
  verdicts(): Readonly<Record<string, Verdict>> {
    const parsed = this.content().parsed;
    return (parsed.verdicts ??= deepFreeze(this.entries('verdicts', parseVerdict)));
  }

  /** Valid role records by node id (keys in sorted order; frozen). */
  roles(): Readonly<Record<string, RoleRecord>> {
    const parsed = this.content().parsed;
    return (parsed.roles ??= deepFreeze(this.entries('roles', parseRole)));
  }

  /** Names of drivers that have records, sorted. */
  drivers(): string[] {
    const map = this.topLevel('drivers');
    return Object.keys(map).filter((k) => isMap(map[k])).sort();
  }

  /** One driver's records as JSON data, by key (sorted; frozen). Empty when the driver has none. */
  driverRecords(driver: string): Readonly<Record<string, JsonValue>> {
    const drivers = this.content().parsed.drivers;
    let records = drivers.get(driver);
    if (records === undefined) {
      records = deepFreeze(this.parseDriverRecords(driver));
      drivers.set(driver, records);
    }
    return records;
  }

  private parseDriverRecords(driver: string): Record<string, JsonValue> {
    const map = this.topLevel('drivers');
    const records = Object.prototype.hasOwnProperty.call(map, driver) ? map[driver] : undefined;
    const out: Record<string, JsonValue> = {};
    if (records === undefined) return out;
    if (!isMap(records)) {
      this.issue(`drivers.${driver}`, 'expected an object');
      return out;
    }
    for (const key of Object.keys(records).sort()) {
      const v = parseDriverRecord(driver, key, records[key], this.issue);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }

  // ---- writers ------------------------------------------------------------------------------

  /** Writes this node's own member record (`members[self]`). Returns true when it changed. */
  writeOwnMember(record: Omit<Member, 'id'>): boolean {
    const next: Member = { id: this.self, ...record, labels: sortKeys(record.labels) };
    if (sameJson(this.member(this.self), next)) return false;
    return this.commit(`member ${this.self}`, (d) => {
      this.mapIn(d, 'members')[this.self] = toAutomerge(next as unknown as JsonValue);
    });
  }

  /** Records a liveness verdict about `subject`, signed off by this node at the clock's time. */
  writeVerdict(subject: string, verdict: { status: VerdictStatus; incarnation: number }): boolean {
    const current = this.verdicts()[subject];
    if (current !== undefined && current.status === verdict.status && current.incarnation === verdict.incarnation) return false;
    const next: Verdict = { status: verdict.status, incarnation: verdict.incarnation, by: this.self, at: this.clock.now() };
    return this.commit(`verdict ${subject} ${verdict.status}`, (d) => {
      this.mapIn(d, 'verdicts')[subject] = toAutomerge(next as unknown as JsonValue);
    });
  }

  /** Writes this node's own role and progress (`roles[self]`). */
  writeOwnRole(record: { role: Role; phase: string; detail?: string | null }): boolean {
    const current = this.roles()[this.self];
    const detail = record.detail ?? null;
    if (current !== undefined && current.role === record.role && current.phase === record.phase && current.detail === detail) return false;
    const next: RoleRecord = { role: record.role, phase: record.phase, detail, at: this.clock.now() };
    return this.commit(`role ${this.self} ${record.role}/${record.phase}`, (d) => {
      this.mapIn(d, 'roles')[this.self] = toAutomerge(next as unknown as JsonValue);
    });
  }

  /** Writes one driver record `drivers[driver][key] = value` (replacing the previous value). */
  writeDriverRecord(driver: string, key: string, value: JsonValue): boolean {
    if (sameJson(this.driverRecords(driver)[key], value)) return false;
    return this.commit(`driver ${driver}.${key}`, (d) => {
      const drivers = this.mapIn(d, 'drivers');
      if (!isMap(drivers[driver])) drivers[driver] = {};
      (drivers[driver] as Raw)[key] = toAutomerge(value);
    });
  }

  /** Replaces the policy envelope. Validation and version rules belong to the policy layer. */
  writePolicy(envelope: PolicyEnvelope): boolean {
    const next: PolicyEnvelope = { yaml: envelope.yaml, name: envelope.name, version: envelope.version, signature: envelope.signature, signer: envelope.signer };
    if (sameJson(this.policy(), next)) return false;
    return this.commit(`policy ${next.name} v${next.version}`, (d) => {
      const policy = this.mapIn(d, 'policy');
      for (const [k, v] of Object.entries(next)) policy[k] = toAutomerge(v as JsonValue);
    });
  }

  /**
   * Writes an empty change that depends on every current head, so the document has one head
   * again. Concurrent writes (a fleet joining at once) leave one head per writer, and every
   * heads read and sync message grows with them. Returns false when there is one head already.
   */
  mergeHeads(): boolean {
    if (this.content().heads.length <= 1) return false;
    return this.commitWith('merge heads', (doc, options) => Automerge.emptyChange(doc, options));
  }

  // ---- replication --------------------------------------------------------------------------

  /** Checks encoded changes as {@link applyChanges} does, without applying them. Throws ChangeRejectedError. */
  verifyChanges(changes: readonly Uint8Array[]): void {
    for (const c of changes) verifyChange(c);
  }

  /**
   * Applies encoded changes from a peer. Changes whose dependencies are missing are queued by
   * Automerge (see {@link missingDeps}). Throws {@link ChangeRejectedError} and leaves the
   * document unchanged when any change is malformed or refused.
   */
  applyChanges(changes: Uint8Array[]): void {
    this.verifyChanges(changes);
    const before = this.heads();
    try {
      Automerge.getBackend(this.doc).applyChanges(changes);
    } catch (err) {
      throw new ChangeRejectedError('rejected-by-automerge', err instanceof Error ? err.message : String(err), { cause: err });
    }
    this.version++;
    this.emitIfMoved(before);
  }

  /** Hashes of changes we know exist (dependencies of queued changes) but do not have. */
  missingDeps(): string[] {
    return Automerge.getMissingDeps(this.doc, []).slice().sort();
  }

  /** True when the document contains every change in `heads`. */
  hasHeads(heads: readonly string[]): boolean {
    try {
      return Automerge.hasHeads(this.doc, [...heads]);
    } catch {
      return false;
    }
  }

  /** Next sync message for a peer (null when there is nothing to say) and the updated state. */
  generateSyncMessage(state: Automerge.SyncState): [Automerge.SyncState, Uint8Array | null] {
    return Automerge.generateSyncMessage(this.doc, state);
  }

  /**
   * Applies a peer's sync message; returns the updated sync state. Throws
   * {@link ChangeRejectedError} and leaves the document unchanged when it is malformed or refused.
   */
  receiveSyncMessage(state: Automerge.SyncState, message: Uint8Array): Automerge.SyncState {
    verifySyncMessage(message);
    const before = this.heads();
    let next: Automerge.Doc<Raw>;
    let nextState: Automerge.SyncState;
    try {
      [next, nextState] = Automerge.receiveSyncMessage(this.doc, state, message);
    } catch (err) {
      throw new ChangeRejectedError('rejected-by-automerge', err instanceof Error ? err.message : String(err), { cause: err });
    }
    this.doc = next;
    this.version++;
    this.emitIfMoved(before);
    return nextState;
  }

  // ---- internals ----------------------------------------------------------------------------

  private content(): Content {
    if (this.current?.version !== this.version) {
      const heads = sortedHeads(this.doc);
      const key = `${this.cluster}:${heads.join(',')}`;
      this.current = { version: this.version, heads, key, digest: undefined, parsed: parsedContents.getOrCompute(key, () => ({ drivers: new Map() })) };
    }
    return this.current;
  }

  /**
   * A top-level entry, read from the Automerge backend: a map materialized as plain data, a
   * scalar as its value, undefined when absent. Readers never touch the JS document, and remote
   * changes are applied to the backend alone, so the JS document is only brought up to date
   * (one patch set for everything since) by this node's next write or sync message — not once
   * per change received, which would cost most of the time a large fleet spends.
   */
  private read(name: string): unknown {
    const backend = Automerge.getBackend(this.doc);
    const entry = backend.getWithType('_root', name) as [string, unknown] | null | undefined;
    if (entry === null || entry === undefined) return undefined;
    const [type, value] = entry;
    if (type === 'map' || type === 'list' || type === 'text') return backend.materialize(value as string);
    return value;
  }

  /** Reports a schema issue once per (path, reason). Arrow function: passed as a callback. */
  private readonly issue = (path: string, reason: string): void => {
    const key = `${path}\u0000${reason}`;
    if (this.warned.has(key)) return;
    if (this.warned.size < MAX_REMEMBERED_WARNINGS) this.warned.add(key);
    this.logger.warn({ path, reason }, 'ignoring cluster document entry that does not fit the schema');
  };

  /** Every entry of a top-level map that `parse` accepts, keys in sorted order. */
  private entries<T>(name: TopLevelMap, parse: (key: string, value: unknown, sink: SchemaIssueSink) => T | undefined): Record<string, T> {
    const out: Record<string, T> = {};
    const map = this.topLevel(name);
    for (const key of Object.keys(map).sort()) {
      const parsed = parse(key, map[key], this.issue);
      if (parsed !== undefined) out[key] = parsed;
    }
    return out;
  }

  private topLevel(name: TopLevelMap): Raw {
    const value = this.read(name);
    if (isMap(value)) return value;
    this.issue(name, `top-level ${name} is not a map (got ${readString(value) !== undefined ? 'a string' : typeof value})`);
    return {};
  }

  private mapIn(d: Raw, name: TopLevelMap): Raw {
    const value = d[name];
    if (!isMap(value)) throw new DocumentShapeError(name);
    return value;
  }

  private commit(message: string, mutate: (d: Raw) => void): boolean {
    return this.commitWith(message, (doc, options) => Automerge.change(doc, options, mutate));
  }

  /** Makes one local change with `produce` (given the commit message and time) and emits it. */
  private commitWith(message: string, produce: (doc: Automerge.Doc<Raw>, options: { message: string; time: number }) => Automerge.Doc<Raw>): boolean {
    const before = this.heads();
    const time = Math.floor(this.clock.now() / 1000);
    this.doc = produce(this.doc, { message, time });
    this.version++;
    const heads = this.heads();
    if (sameJson(before, heads)) return false;
    const change = Automerge.getLastLocalChange(this.doc);
    this.emit({ origin: 'local', heads, ...(change === undefined ? {} : { change }) });
    return true;
  }

  private emitIfMoved(before: string[]): void {
    const heads = this.heads();
    if (!sameJson(before, heads)) this.emit({ origin: 'remote', heads });
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

function sortKeys(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k] as string;
  return out;
}
