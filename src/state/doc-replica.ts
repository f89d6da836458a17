/**
 * DocReplica: this node's replica of an Automerge document — its heads, the remote changes it
 * applies (and those that wait for a missing dependency), Automerge sync, and the local changes
 * it commits and emits. ClusterDoc (cluster-doc.ts) is the cluster schema on top of it.
 *
 * Contract:
 * - Remote bytes go through {@link DocReplica.applyChanges} / {@link DocReplica.receiveSyncMessage},
 *   which either apply them or throw {@link ChangeRejectedError} and leave the document unchanged.
 * - Change timestamps are the injected Clock's time in whole seconds.
 * - The Automerge handle lives in a {@link DocHandle} (doc-handle.ts), which a simulated fleet
 *   may share between documents holding the same content; it never shows in what the document
 *   holds. The document lives in Automerge's wasm handle alone; Automerge's JS document layer
 *   is never used (see automerge-backend.ts for why).
 *
 * Not thread-safe by design: one event loop owns the instance. Listeners run synchronously after
 * each change, in registration order.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../seams/clock.js';
import { forgetSentChanges, generateSyncMessage, newPeerSyncState, receiveSyncMessage, type Backend, type PeerSyncState } from './automerge-backend.js';
import { planBatch, type BatchPlan } from './causal-batch.js';
import { headsDigestOf } from './change-refs.js';
import { changeHeader, verifyChange, verifySyncMessage, type ChangeHeader } from './change-bytes.js';
import { contentKeyOf, headsAfter, type DocHandle, type RecordPut } from './doc-handle.js';
import { ChangeRejectedError } from './errors.js';
import type { StateLogger } from './logger.js';
import type { ContentCache } from '../util/content-cache.js';

export type { PeerSyncState } from './automerge-backend.js';

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

export interface DocReplicaInit {
  /** Names the replica's contents ({@link contentKeyOf}). */
  cluster: string;
  /** The actor id the handle writes with. */
  actor: string;
  clock: Clock;
  logger: StateLogger;
  /** Batch plans by content and batch, shared between replicas; unset: none kept (see DocHandles.plans). */
  plans?: ContentCache<BatchPlan> | undefined;
}

/** The heads of the document at one version. */
export interface Content {
  /** {@link DocReplica} version it was read at. */
  version: number;
  /** Sorted. */
  readonly heads: readonly string[];
  /** The same heads with their digest once asked for; also in {@link DocReplica.recentHeads}. */
  readonly headSet: HeadSet;
  /** {@link contentKeyOf} the heads. */
  readonly key: string;
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

/**
 * Most received changes kept waiting for missing dependencies; beyond it the oldest are dropped
 * (a sync session fetches them again). A fleet recording its roles after losing one early change
 * can hold about one change per member.
 */
export const MAX_WAITING_CHANGES = 10_000;

/** A head set's digest ({@link headsDigestOf}), made once. */
function digestOf(set: HeadSet): string {
  return (set.digest ??= headsDigestOf(set.list));
}

function sameHeads(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((h, i) => h === b[i]);
}

export class DocReplica {
  readonly cluster: string;
  /** This node's actor id for this incarnation of the document (hex, 16 bytes). */
  readonly actor: string;
  protected readonly handle: DocHandle;
  protected readonly clock: Clock;
  protected readonly logger: StateLogger;
  private readonly plans: ContentCache<BatchPlan> | undefined;
  private readonly listeners = new Set<DocChangeListener>();
  /** The heads at `version`. */
  private current: Content | undefined;
  /** Incremented by every local write and remote apply. */
  private version = 0;
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

  protected constructor(handle: DocHandle, init: DocReplicaInit) {
    this.handle = handle;
    this.cluster = init.cluster;
    this.actor = init.actor;
    this.clock = init.clock;
    this.logger = init.logger;
    this.plans = init.plans;
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

  /**
   * Names the document's content: the cluster and its sorted heads. Equal keys mean equal
   * content, so anything derived from the document alone may be cached by it.
   */
  contentKey(): string {
    return this.content().key;
  }

  /** The whole document (Automerge's compact save format), for persistence. Do not modify the bytes. */
  save(): Uint8Array {
    // Automerge loads a saved document followed by change chunks as one document.
    return this.handle.save();
  }

  /** Listens to changes; returns a function that removes the listener. */
  onChange(listener: DocChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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

  // ---- applying remote changes ------------------------------------------------------------

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
   * wait. Moves to the resulting content instead when the handle has it at hand (DocHandle.moveTo).
   */
  private applyBatch(received: readonly Uint8Array[], verified: readonly string[]): void {
    // Oldest first: what waited already, what arrived, what this node wrote.
    const candidates = new Map<string, Uint8Array>(this.waiting);
    received.forEach((change, i) => candidates.set(verified[i] as string, change));
    for (const w of this.handle.pending) candidates.set(w.hash, w.change);
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
      if (plan.heads !== undefined) {
        const before = this.content().heads;
        if (this.handle.moveTo(contentKeyOf(this.cluster, plan.heads))) {
          this.moved();
          this.emitIfMoved(before);
          return;
        }
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
   * What applying changes `hashes` (with these headers) to the handle does; undefined when it
   * cannot be worked out here — Automerge has queued changes itself (a sync message can leave
   * some), whose hashes its missing-dependency lookup does not report.
   */
  private plan(hashes: readonly string[], headers: ReadonlyMap<string, ChangeHeader>): BatchPlan | undefined {
    if (!this.handle.shared && this.handle.backend.getMissingDeps([]).length > 0) return undefined;
    const handleHeads = this.handleHeads();
    const plan = (): BatchPlan =>
      planBatch(handleHeads, hashes.map((hash) => ({ hash, deps: (headers.get(hash) as ChangeHeader).deps })), (asked) => new Set(this.handle.backend.getMissingDeps(asked)));
    if (this.plans === undefined) return plan();
    // The batch by digest: with many changes waiting it names thousands of hashes.
    const batch = `${contentKeyOf(this.cluster, handleHeads)}|${createHash('sha256').update([...hashes].sort().join(',')).digest('hex')}`;
    return this.plans.getOrCompute(batch, plan);
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
    const backend = this.handle.own();
    try {
      backend.applyChanges(ordered.map((h) => candidates.get(h) as Uint8Array));
    } catch (err) {
      // Refused as a whole: the changes that waited are gone with the batch (takeRefusedWaiting).
      this.refusedWaiting += apply.filter((h) => fromWaiting.has(h)).length;
      throw new ChangeRejectedError('rejected-by-automerge', err instanceof Error ? err.message : String(err), { cause: err });
    } finally {
      // What the handle now holds is no longer pending; what a refused batch left out goes in alone.
      this.handle.flush();
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
    for (const w of this.handle.pending) deps.delete(w.hash);
    return [...new Set(this.handle.backend.getMissingDeps([...deps]))].sort();
  }

  /** Changes received that wait beside the document for a missing dependency. */
  waitingCount(): number {
    return this.waiting.size;
  }

  /** True when the document contains every change in `heads`. */
  hasHeads(heads: readonly string[]): boolean {
    try {
      return heads.every((h) => this.handle.backend.getChangeMetaByHash(h) !== null || this.handle.pending.some((w) => w.hash === h));
    } catch {
      return false;
    }
  }

  /** The encoded changes with these hashes that this document holds (others are left out). */
  changesByHash(hashes: readonly string[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const hash of hashes) {
      const change = this.handle.pending.find((w) => w.hash === hash)?.change ?? this.handle.backend.getChangeByHash(hash);
      if (change !== null && change !== undefined) out.push(change);
    }
    return out;
  }

  // ---- sync ---------------------------------------------------------------------------------

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
    return generateSyncMessage(this.handle.backend, state);
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
    // One whole document (a session's first answer): the handle may take it in without loading
    // it; every change the message carries is then in the copy already, and receiving it only
    // moves the sync state.
    if (entries.length === 1 && this.handle.adopt(entries[0] as Uint8Array, (copy) => receiveOn(copy, state, message))) {
      this.moved();
      this.settle();
    } else {
      // A message without changes only updates the peer's sync state: a shared handle serves.
      try {
        receiveOn(entries.length === 0 ? this.handle.backend : this.handle.own(), state, message);
      } finally {
        this.moved();
        this.settle();
      }
    }
    this.emitIfMoved(before);
    if (entries.length > 0 && this.waiting.size > 0) this.applyWaiting();
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

  // ---- for the schema on top ---------------------------------------------------------------

  /** The heads and key at the current version. */
  protected content(): Content {
    if (this.current?.version !== this.version) {
      const pending = this.handle.pending;
      const heads = pending.length === 0 ? this.handleHeads() : headsAfter(this.handleHeads(), pending);
      if (this.current !== undefined && sameHeads(this.current.heads, heads)) this.current.version = this.version;
      else {
        const headSet: HeadSet = { list: heads };
        this.current = { version: this.version, heads, headSet, key: contentKeyOf(this.cluster, heads) };
        this.recentHeads.push(headSet);
        if (this.recentHeads.length > RECENT_HEAD_SETS) this.recentHeads.shift();
      }
    }
    return this.current;
  }

  /** The handle's heads, sorted (without pending writes); read once per version (hundreds of hashes while a large fleet writes at once). */
  protected handleHeads(): readonly string[] {
    if (this.handleHeadsAt?.version !== this.version) this.handleHeadsAt = { version: this.version, heads: this.handle.backend.getHeads().slice().sort() };
    return this.handleHeadsAt.heads;
  }

  /** The handle settles: after every change, and once when the document is opened (see DocHandle). */
  protected settle(): void {
    this.handle.settle(this.currentKey);
  }

  /**
   * Makes one local change (`write` puts ops into the open transaction, or commits an empty
   * change itself) stamped with the commit message and the clock's time in whole seconds, and
   * emits it. A write that throws is rolled back. False when nothing changed.
   */
  protected commit(message: string, write: (backend: Backend, message: string, time: number) => unknown): boolean {
    this.applyPending();
    const before = this.content().heads;
    const time = Math.floor(this.clock.now() / 1000);
    const backend = this.handle.own();
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

  /** Makes a record write beside a shared handle (DocHandle.defer) — the same change commit would make — and emits it. */
  protected deferWrite(put: Omit<RecordPut, 'actor' | 'seq' | 'previous' | 'time' | 'heads'>): boolean {
    const heads = this.content().heads;
    const write = this.handle.defer({ ...put, actor: this.actor, seq: this.localSeq + 1, previous: this.lastLocalHash, time: Math.floor(this.clock.now() / 1000), heads });
    this.localSeq++;
    this.lastLocalHash = write.hash;
    this.version++;
    this.emit({ origin: 'local', heads: this.content().heads.slice(), change: write.change, base: heads });
    return true;
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Arrow function: handed to DocHandle.settle. */
  private readonly currentKey = (): string => this.content().key;

  /** After every apply, commit and move: a new version for the readers. */
  private moved(): void {
    this.version++;
  }

  /** Puts the pending writes into the handle (a copy of it when shared), for what needs them there. */
  private applyPending(): void {
    if (!this.handle.flush()) return;
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

/** Automerge's receiveSyncMessage on `backend`, its refusal as a {@link ChangeRejectedError}. */
function receiveOn(backend: Backend, state: PeerSyncState, message: Uint8Array): void {
  try {
    receiveSyncMessage(backend, state, message);
  } catch (err) {
    throw new ChangeRejectedError('rejected-by-automerge', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** Orders actor ids (hex keeps the byte order Automerge sorts by) ascending; unreadable headers last. */
export function compareActors(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a < b ? -1 : 1;
}
