/**
 * DocHandle: where a document's Automerge handle (a {@link Backend}) lives, and the seam through
 * which a simulated fleet holds identical documents once per process, copy-on-write
 * (simulations/harness/shared-doc-states.ts). The daemon holds one document and uses
 * {@link ownedHandles}: its handle, owned alone, changed in place.
 *
 * Contract, for every implementation:
 * - A handle never changes what its document holds: `backend` and `pending` together are always
 *   exactly what the document's changes made, so sharing never shows in what a node reads,
 *   writes or sends.
 * - The document (doc-replica.ts) changes only the backend `own()` returns, calls `settle()`
 *   after every change and once when opened, and asks `moveTo()` before applying a batch whose
 *   resulting heads it has worked out.
 * - While `shared`, `backend` may be held by other documents: it is read (and given sync
 *   messages that carry no changes) but never changed, it holds no changes queued for missing
 *   dependencies, and record writes are kept beside it (`defer`) instead of made in it.
 *
 * Single-threaded: one event loop owns a handle and its document.
 */
import type { Backend } from './automerge-backend.js';
import type { BatchPlan } from './causal-batch.js';
import type { DocumentView, KeyedMap } from './document-view.js';
import type { StateLogger } from './logger.js';
import type { ContentCache } from '../util/content-cache.js';

export interface DocHandle {
  /** The document without `pending`. Read it only while `shared`; change it through `own()`. */
  readonly backend: Backend;
  /** Whether `backend` may be held by other documents now (see the contract above). */
  readonly shared: boolean;
  /**
   * Record writes kept beside `backend`, not in it yet, oldest first: part of the document for
   * its readers, heads, sync and save, and applied with the next batch. Empty unless `shared`.
   */
  readonly pending: readonly DeferredWrite[];
  /** `backend`, owned by this document alone from now on, for a change. Pending writes stay pending. */
  own(): Backend;
  /** After every change and once when opened; `contentKey()` names what `backend` holds (asked only when needed). */
  settle(contentKey: () => string): void;
  /** Puts the pending writes `backend` lacks into it (owned for it); false when none were pending. */
  flush(): boolean;
  /** Only while `shared`: keeps a record write beside `backend` and returns it. */
  defer(put: RecordPut): DeferredWrite;
  /**
   * Before applying a batch whose result is content `key`: holds that content instead, when it
   * is at hand already (the pending writes go: the batch carries them); false when it is not.
   */
  moveTo(key: string): boolean;
  /**
   * A sync message that carries one whole document (`entry`): when the handle can build what
   * receiving it gives without loading the document, it builds it, calls `receive` on it (which
   * may throw: then nothing changed) and holds it instead. False when it cannot.
   */
  adopt(entry: Uint8Array, receive: (backend: Backend) => void): boolean;
  /** The document's save bytes: `backend`'s, followed by the pending writes' change chunks. */
  save(): Uint8Array;
}

/** Makes the handle of each document; what `ClusterDocInit.docHandles` takes. */
export interface DocHandles {
  /** The handle of a new document, holding `backend` (owned by it, not settled yet). */
  open(backend: Backend, doc: HandleOwner): DocHandle;
  /**
   * Snapshots and batch plans by content key (and batch), shared by every document these handles
   * serve. Unset (the daemon): each document derives its own — a single document's heads only
   * grow, so it never meets a content or batch twice, and a process-wide cache would only hold
   * memory.
   */
  readonly views?: ContentCache<DocumentView>;
  readonly plans?: ContentCache<BatchPlan>;
}

/** The document a handle serves. */
export interface HandleOwner {
  readonly cluster: string;
  /** The actor id it writes with: a handle it changes must write as this actor. */
  readonly actor: string;
  readonly logger: StateLogger;
}

/** One record write kept beside a shared handle: one put of JSON text into `map[key]`. */
export interface DeferredWrite {
  /** The encoded change, as broadcast. */
  readonly change: Uint8Array;
  readonly hash: string;
  /** The document's heads it was written on (sorted). */
  readonly deps: readonly string[];
  readonly map: KeyedMap;
  readonly key: string;
  /** The record's JSON text. */
  readonly text: string;
}

/** A record write to encode as its change, as Automerge's commit would. */
export interface RecordPut {
  readonly actor: string;
  /** This actor's sequence number for the change (its count of changes so far, plus one). */
  readonly seq: number;
  /** Hash of this actor's previous change, if any: Automerge makes every change depend on it. */
  readonly previous: string | undefined;
  /** Whole seconds. */
  readonly time: number;
  readonly message: string;
  /** The document's heads it is written on, pending writes included (sorted). */
  readonly heads: readonly string[];
  /** Object id of the map the record goes into. */
  readonly obj: string;
  readonly map: KeyedMap;
  readonly key: string;
  readonly text: string;
}

/**
 * Names a document's content: its cluster and its sorted heads. Equal keys mean equal content,
 * so anything derived from the document alone may be cached by it.
 */
export function contentKeyOf(cluster: string, heads: readonly string[]): string {
  return `${cluster}:${heads.join(',')}`;
}

/** The heads after `writes` (in the order made) on a document with `heads`; sorted. */
export function headsAfter(heads: readonly string[], writes: readonly DeferredWrite[]): string[] {
  let out = [...heads];
  for (const w of writes) out = [...out.filter((h) => !w.deps.includes(h)), w.hash];
  return out.sort();
}

const NO_PENDING: readonly DeferredWrite[] = Object.freeze([]);

/** The daemon's handle: the backend, owned alone, changed in place. */
class OwnedHandle implements DocHandle {
  readonly shared = false;
  readonly pending = NO_PENDING;

  constructor(readonly backend: Backend) {}

  own(): Backend {
    return this.backend;
  }

  /**
   * Truncates the backend's patch log: it records patches for Automerge's JS layer, which is
   * never used here, and would otherwise grow with every change received.
   */
  settle(): void {
    this.backend.updateDiffCursor();
  }

  flush(): boolean {
    return false;
  }

  defer(): DeferredWrite {
    throw new Error('invariant: an owned handle is written in place');
  }

  moveTo(): boolean {
    return false;
  }

  adopt(): boolean {
    return false;
  }

  save(): Uint8Array {
    return this.backend.save();
  }
}

/** Every document owns its handle alone; no caches shared between documents. */
export const ownedHandles: DocHandles = { open: (backend) => new OwnedHandle(backend) };
