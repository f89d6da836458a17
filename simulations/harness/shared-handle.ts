/**
 * SharedHandle: one document's side of SharedDocStates (shared-doc-states.ts) — the DocHandle
 * (src/state/doc-handle.ts) of a simulated node's ClusterDoc. Its backend is either held in the
 * store under its content key (shared: read only) or owned alone; every change goes through
 * {@link own} first (copy-on-write). A record write on a shared backend is not applied to a
 * copy at once: it is encoded (pending-writes.ts) and kept beside the backend until the next
 * apply, sync or write that needs it there — the document's readers, heads and save bytes
 * include it all along.
 *
 * Single-threaded: one event loop owns the handle and its document.
 */
import type { Backend } from '../../src/state/automerge-backend.js';
import { changeHeader, documentChunkHeads } from '../../src/state/change-bytes.js';
import { contentKeyOf, type DocHandle, type HandleOwner, type RecordPut } from '../../src/state/doc-handle.js';
import { compareActors } from '../../src/state/doc-replica.js';
import { encodeRecordPut, maxOpOf, type PendingWrite } from './pending-writes.js';
import type { ContentCache } from '../../src/util/content-cache.js';

/** What a SharedHandle needs of the store of shared contents (SharedDocStates implements it). */
export interface ContentStore {
  /** Highest op counter per content key (a deferred write continues from it). */
  readonly maxOps: ContentCache<number>;
  /** Hands `backend` (exactly content `key`) to the store; returns the handle the caller now holds (the stored one when `key` was stored already). */
  share(key: string, backend: Backend): Backend;
  /** The holder of `key` lets go of it. */
  release(key: string): void;
  /** The handle of `key`, no longer stored, when the caller is its only holder and it writes as `actor`; undefined otherwise. */
  takeOver(key: string, actor: string): Backend | undefined;
  /** Counts a fork of a shared handle. */
  forked(): void;
  /** The stored handle of content `key`, now also held by the caller; undefined when not stored. */
  acquire(key: string): Backend | undefined;
  /** The stored handle of content `key` without holding it; undefined when not stored. */
  peek(key: string): Backend | undefined;
  /** Counts a copy made of a stored content to take in a whole document sent by sync. */
  adopted(): void;
  /** `save()` of a stored content, made once. */
  saved(key: string): Uint8Array | undefined;
}

/** Most changes of its own a document adds to a copy of a sender's stored document ({@link SharedHandle.adopt}); beyond, it loads what was sent. */
export const MAX_ADOPTED_OWN_CHANGES = 64;

export class SharedHandle implements DocHandle {
  backend: Backend;
  pending: PendingWrite[] = [];
  readonly #states: ContentStore;
  readonly #owner: HandleOwner;
  /** The content key under which `backend` is in the store (held, not owned); undefined when owned alone. */
  #key: string | undefined;

  constructor(states: ContentStore, backend: Backend, owner: HandleOwner) {
    this.#states = states;
    this.backend = backend;
    this.#owner = owner;
  }

  get shared(): boolean {
    return this.#key !== undefined;
  }

  /** Takes a shared backend over when this document is its only holder and it writes as this actor, and forks it otherwise. */
  own(): Backend {
    const key = this.#key;
    if (key === undefined) return this.backend;
    this.#key = undefined;
    const sole = this.#states.takeOver(key, this.#owner.actor);
    if (sole !== undefined) return (this.backend = sole);
    const copy = this.backend.fork(this.#owner.actor);
    this.#states.release(key);
    this.#states.forked();
    return (this.backend = copy);
  }

  /**
   * Truncates an owned backend's patch log (it records patches for Automerge's JS layer, never
   * used here), then hands the backend to the store when its content is fully described by its
   * heads (no changes queued for missing dependencies), adopting the stored backend when an
   * equal content is stored already.
   */
  settle(contentKey: () => string): void {
    if (this.#key !== undefined) return;
    this.backend.updateDiffCursor();
    if (this.backend.getMissingDeps([]).length > 0) return;
    const key = contentKey();
    this.backend = this.#states.share(key, this.backend);
    this.#key = key;
  }

  flush(): boolean {
    if (this.pending.length === 0) return false;
    const backend = this.own();
    const lacking = this.pending.filter((w) => backend.getChangeMetaByHash(w.hash) === null);
    this.pending = [];
    if (lacking.length > 0) backend.applyChanges(lacking.map((w) => w.change));
    return true;
  }

  defer(put: RecordPut): PendingWrite {
    const key = this.#key;
    if (key === undefined) throw new Error('invariant: a record write is deferred only beside a shared handle');
    const write = encodeRecordPut(this.backend, this.pending, put, this.#states.maxOps.getOrCompute(key, () => maxOpOf(this.backend)));
    this.pending.push(write);
    return write;
  }

  moveTo(key: string): boolean {
    const stored = this.#states.acquire(key);
    if (stored === undefined) return false;
    this.#letGo();
    this.backend = stored;
    this.#key = key;
    this.pending = [];
    return true;
  }

  /**
   * When `entry` is the sender's whole document ({@link documentChunkHeads}) and that content is
   * stored, takes in a copy of it with this document's own changes that it lacks (at most
   * {@link MAX_ADOPTED_OWN_CHANGES}) — the content receiving the message would give, since the
   * message carries every change of the sender's document — built without loading the sender's
   * document again (a 1,000-member one took ~20 ms to load into a newcomer, ~1 ms as a copy).
   */
  adopt(entry: Uint8Array, receive: (backend: Backend) => void): boolean {
    const copy = this.#adoptionFor(entry);
    if (copy === undefined) return false;
    try {
      receive(copy);
    } catch (err) {
      copy.free();
      throw err;
    }
    this.#letGo();
    this.#key = undefined;
    this.backend = copy;
    return true;
  }

  /** `save()` of a stored content is made once. */
  save(): Uint8Array {
    const saved = this.#key !== undefined ? (this.#states.saved(this.#key) ?? this.backend.save()) : this.backend.save();
    // Automerge loads a saved document followed by change chunks as one document.
    return this.pending.length === 0 ? saved : Buffer.concat([saved, ...this.pending.map((w) => w.change)]);
  }

  /** The copy {@link adopt} takes in; undefined when it cannot be built that way. */
  #adoptionFor(entry: Uint8Array): Backend | undefined {
    const heads = documentChunkHeads(entry);
    if (heads === undefined || heads.length === 0) return undefined;
    const key = contentKeyOf(this.#owner.cluster, heads);
    if (key === this.#key) return undefined;
    // Changes Automerge holds back for missing dependencies are not in the history copied below.
    if (this.#key === undefined && this.backend.getMissingDeps([]).length > 0) return undefined;
    const sender = this.#states.peek(key);
    if (sender === undefined) return undefined;
    const own = this.#changesNotIn(sender);
    if (own === undefined) return undefined;
    const copy = sender.fork(this.#owner.actor);
    try {
      if (own.length > 0) copy.applyChanges(own.sort((a, b) => compareActors(changeHeader(a)?.actor, changeHeader(b)?.actor)));
    } catch (err) {
      copy.free();
      this.#owner.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "could not copy the sender's stored document; loading the one it sent");
      return undefined;
    }
    this.#states.adopted();
    return copy;
  }

  /**
   * This document's changes that `other` lacks; undefined when there are more than
   * MAX_ADOPTED_OWN_CHANGES. Counted first from the heads back, a walk that stops at changes
   * `other` holds (a document behind it costs a lookup per head), and only then read out
   * (Automerge re-encodes each change it returns).
   */
  #changesNotIn(other: Backend): Uint8Array[] | undefined {
    const seen = new Set<string>();
    let lacking = 0;
    // `other` is a stored content (nothing queued), so its missing dependencies among the hashes
    // asked are exactly those it does not hold: one lookup per generation of the walk.
    for (let asked = this.backend.getHeads(); asked.length > 0; ) {
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

  /** Lets go of the backend: released to the store when shared, freed when owned. */
  #letGo(): void {
    if (this.#key !== undefined) this.#states.release(this.#key);
    else this.backend.free();
  }
}
