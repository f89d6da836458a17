/**
 * SharedDocStates: Automerge document handles shared, copy-on-write, by every ClusterDoc in one
 * process that holds the same content — a simulated fleet's nodes, which mostly hold the same
 * document at the same time. Plugged into each node as its DocHandles (src/state/doc-handle.ts);
 * each document's side of the sharing is its SharedHandle (shared-handle.ts).
 *
 * Why: an Automerge document's content is a pure function of the set of changes it holds (its
 * heads name that set), so a thousand simulated nodes holding the same heads hold a thousand
 * identical copies, and each applies every change the fleet makes at a cost that grows with
 * the document. Shared, each distinct content is stored and built once: a document about to
 * apply changes works out the heads it would have (DocReplica.applyChanges), and when that
 * content is stored already it moves there without touching Automerge. This is what lets one
 * process hold a 1,000-node fleet within Automerge's 4 GiB wasm memory (docs/SIMULATION.md,
 * "Where the time goes at scale"). For the same reason the documents share their parsed
 * snapshots and batch plans by content ({@link views}, {@link plans}).
 *
 * Only contents without queued changes are shared (a handle with changes waiting for missing
 * dependencies holds more than its heads say). A document writes only into a handle it owns
 * alone: it takes a shared one over when it is the only holder and the handle writes as its
 * actor, and forks it otherwise (SharedHandle.own).
 *
 * The daemon never loads this (one document per process: nothing to share). Nothing here
 * changes what any document holds or when: sharing is invisible to the node code above it.
 *
 * Single-threaded: one event loop owns the instance.
 */
import type { Backend } from '../../src/state/automerge-backend.js';
import type { BatchPlan } from '../../src/state/causal-batch.js';
import type { DocHandle, DocHandles, HandleOwner } from '../../src/state/doc-handle.js';
import type { DocumentView } from '../../src/state/document-view.js';
import { ContentCache } from '../../src/util/content-cache.js';
import { SharedHandle, type ContentStore } from './shared-handle.js';

interface Entry {
  readonly key: string;
  readonly backend: Backend;
  /** ClusterDocs holding this handle now. */
  holders: number;
  /** `save()` bytes, made on first request. */
  saved: Uint8Array | undefined;
}

export interface SharedDocStatesStats {
  /** Contents stored now (held or spare). */
  stored: number;
  /** Contents some document holds now. */
  held: number;
  /** Changes a document moved past without applying them (the result was stored). */
  hits: number;
  /** Handles given up because an equal content was stored already. */
  deduplicated: number;
  /** Shared handles copied so that a holder could change its own. */
  forks: number;
  /** Whole documents received by sync taken in as a copy of the stored sender's content instead of loaded. */
  adoptions: number;
}

export class SharedDocStates implements DocHandles, ContentStore {
  /** Parsed snapshots by content key: the fleet's nodes read the same contents (ClusterDoc's readers). */
  readonly views = new ContentCache<DocumentView>(256);
  /**
   * What applying a batch of changes does to a content (causal-batch.ts), by the content's key and
   * the batch's hashes. The fleet's nodes hold the same content and apply the same batch at the
   * same moment (aligned gossip windows): a thousand identical plans, each walking every change's
   * dependencies — hundreds while a large fleet records its roles.
   */
  readonly plans = new ContentCache<BatchPlan>(1_024);
  /** The highest op of each content a record write was encoded on (pending-writes.ts), by content key. */
  readonly maxOps = new ContentCache<number>(256);
  readonly #byKey = new Map<string, Entry>();
  /** Contents nobody holds, kept for a while in case a node moves to them; oldest first. */
  readonly #spare = new Set<Entry>();
  readonly #stats: SharedDocStatesStats = { stored: 0, held: 0, hits: 0, deduplicated: 0, forks: 0, adoptions: 0 };

  /**
   * @param spareCapacity contents kept when nobody holds them (a node that lagged may still
   *   move to one).
   */
  constructor(readonly spareCapacity = 64) {}

  open(backend: Backend, doc: HandleOwner): DocHandle {
    return new SharedHandle(this, backend, doc);
  }

  /**
   * Hands `backend` (holding exactly content `key`, nothing queued) over to the store and
   * returns the handle the caller now holds: the stored one when that content is stored
   * already (then `backend` is freed), else `backend` itself.
   */
  share(key: string, backend: Backend): Backend {
    const existing = this.#byKey.get(key);
    if (existing !== undefined) {
      if (existing.backend !== backend) {
        backend.free();
        this.#stats.deduplicated++;
      }
      this.#hold(existing);
      return existing.backend;
    }
    const entry: Entry = { key, backend, holders: 1, saved: undefined };
    this.#byKey.set(key, entry);
    return backend;
  }

  /** The holder of `key` lets go of it. */
  release(key: string): void {
    const entry = this.#byKey.get(key);
    if (entry === undefined || entry.holders === 0) throw new Error(`invariant: releasing shared content ${key.slice(0, 40)} that nobody holds`);
    entry.holders--;
    if (entry.holders > 0) return;
    this.#spare.add(entry);
    while (this.#spare.size > this.spareCapacity) this.#drop(this.#spare.values().next().value as Entry);
  }

  /**
   * The sole holder of `key` takes its handle back to change it in place: returned (and no
   * longer stored) when the caller is the only holder and the handle writes as `actor`;
   * undefined otherwise (the caller forks it and releases it).
   */
  takeOver(key: string, actor: string): Backend | undefined {
    const entry = this.#byKey.get(key);
    if (entry === undefined || entry.holders !== 1 || entry.backend.getActorId() !== actor) return undefined;
    this.#forget(entry);
    return entry.backend;
  }

  /** Counts a fork of a shared handle (SharedHandle.own). */
  forked(): void {
    this.#stats.forks++;
  }

  /** The stored handle of content `key`, now also held by the caller; undefined when not stored. */
  acquire(key: string): Backend | undefined {
    const entry = this.#byKey.get(key);
    if (entry === undefined) return undefined;
    this.#hold(entry);
    this.#stats.hits++;
    return entry.backend;
  }

  /**
   * The stored handle of content `key` to read or fork now, without holding it (it may be
   * dropped once nobody holds it); undefined when not stored.
   */
  peek(key: string): Backend | undefined {
    return this.#byKey.get(key)?.backend;
  }

  /** Counts a copy made of a stored content to take in a whole document sent by sync (SharedHandle.adopt). */
  adopted(): void {
    this.#stats.adoptions++;
  }

  /** Whether content `key` is stored (held or spare). */
  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** `save()` of a stored content, made once. */
  saved(key: string): Uint8Array | undefined {
    const entry = this.#byKey.get(key);
    if (entry === undefined) return undefined;
    entry.saved ??= entry.backend.save();
    return entry.saved;
  }

  stats(): SharedDocStatesStats {
    return { ...this.#stats, stored: this.#byKey.size, held: this.#byKey.size - this.#spare.size };
  }

  #hold(entry: Entry): void {
    if (entry.holders === 0) this.#spare.delete(entry);
    entry.holders++;
  }

  #drop(entry: Entry): void {
    this.#forget(entry);
    entry.backend.free();
  }

  #forget(entry: Entry): void {
    this.#spare.delete(entry);
    this.#byKey.delete(entry.key);
  }
}
