/**
 * Persistence of the cluster document through the Storage seam.
 *
 * File `cluster.automerge` = header + `Automerge.save` bytes:
 *
 *     8 bytes magic "PACEDOC" 0x01 | u32 BE payload length | 32 bytes sha256(payload) | payload
 *
 * The header catches truncation and bit rot before Automerge sees the bytes (Automerge.load
 * also throws on most damage; the checksum catches the rest). Storage.write is atomic, so a
 * crash leaves the old or the new file, never a mix.
 *
 * Saving is debounced: the first change after a save arms a timer (on the injected Clock) and
 * the save writes everything changed up to then, so a burst of changes costs one write. The
 * delay is `debounceMs` (default 500 ms), or longer for a large document — one millisecond
 * per {@link SAVE_BYTES_PER_DELAY_MS} bytes of the last save, at most
 * {@link MAX_SAVE_DEBOUNCE_MS} — because every save writes the whole document: a
 * thousand-member document (~200 KB) is saved every few seconds while it changes, not twice a
 * second. No change waits longer than the delay plus the write. `stop()` flushes. A failed write is logged and retried on the next change or flush.
 *
 * On start a missing file means a new node (genesis). A damaged or foreign file is renamed
 * to `cluster.automerge.corrupt-<clock ms>` with an error line, and the node starts from genesis
 * and re-syncs from peers: the peers hold the cluster's state, so nothing accepted is lost
 * unless this node was the only holder of its latest changes.
 */
import { createHash } from 'node:crypto';
import type { Clock, Timer } from '../seams/clock.js';
import type { Storage } from '../seams/storage.js';
import { ClusterDoc, type ClusterDocInit } from './cluster-doc.js';
import { DocumentLoadError } from './errors.js';
import type { StateLogger } from './logger.js';

/** Storage name of the saved document. */
export const DOC_FILE = 'cluster.automerge';
/** Delay between the first unsaved change and the save that covers it (for a small document). */
export const DEFAULT_SAVE_DEBOUNCE_MS = 500;
/** A large document's save delay grows by 1 ms per this many bytes of its last save. */
export const SAVE_BYTES_PER_DELAY_MS = 50;
/** The save delay never exceeds this. */
export const MAX_SAVE_DEBOUNCE_MS = 5_000;

const MAGIC = Uint8Array.from([0x50, 0x41, 0x43, 0x45, 0x44, 0x4f, 0x43, 0x01]); // "PACEDOC" 1
const HEADER_BYTES = MAGIC.length + 4 + 32;

function sha256(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}

/**
 * Files already encoded, by payload. Documents that share content share their saved bytes
 * (its DocHandles), and the header's checksum costs a pass over a document that is megabytes
 * in a large fleet: a simulated fleet of a thousand nodes saving the same content hashes it once.
 * Callers must not modify a returned file (Storage implementations copy or write it out).
 */
const encodedFiles = new WeakMap<Uint8Array, Uint8Array>();

/** Wraps `Automerge.save` bytes in the file header. The result is shared: do not modify it. */
export function encodeSavedDoc(payload: Uint8Array): Uint8Array {
  let file = encodedFiles.get(payload);
  if (file === undefined) encodedFiles.set(payload, (file = encodeFile(payload)));
  return file;
}

function encodeFile(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, payload.length);
  out.set(sha256(payload), MAGIC.length + 4);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** Unwraps a saved file; throws {@link DocumentLoadError} ('bad-header' | 'bad-checksum'). */
export function decodeSavedDoc(file: Uint8Array): Uint8Array {
  if (file.length < HEADER_BYTES || MAGIC.some((b, i) => file[i] !== b)) {
    throw new DocumentLoadError('bad-header', `not a PACE document file (${file.length} bytes)`);
  }
  const length = new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(MAGIC.length);
  if (file.length - HEADER_BYTES !== length) {
    throw new DocumentLoadError('bad-header', `header says ${length} bytes, file holds ${file.length - HEADER_BYTES} (truncated?)`);
  }
  const payload = file.subarray(HEADER_BYTES);
  const expected = file.subarray(MAGIC.length + 4, HEADER_BYTES);
  const actual = sha256(payload);
  if (!actual.every((b, i) => b === expected[i])) throw new DocumentLoadError('bad-checksum', 'sha256 of the document does not match its header');
  return payload;
}

export interface DocPersistenceComponents {
  storage: Storage;
  clock: Clock;
  logger: StateLogger;
}

export interface DocPersistenceInit {
  /** @default 500 */
  debounceMs?: number;
}

/** How {@link DocPersistence.open} obtained the document. */
export type DocSource = 'saved' | 'genesis' | 'recovered-from-corruption';

export class DocPersistence {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly logger: StateLogger;
  private readonly debounceMs: number;
  private doc: ClusterDoc | undefined;
  private detach: (() => void) | undefined;
  private timer: Timer | undefined;
  private dirty = false;
  private lastSaveBytes = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(components: DocPersistenceComponents, init: DocPersistenceInit = {}) {
    this.storage = components.storage;
    this.clock = components.clock;
    this.logger = components.logger;
    this.debounceMs = init.debounceMs ?? DEFAULT_SAVE_DEBOUNCE_MS;
  }

  /**
   * Loads the saved document, or creates genesis when there is none or it is damaged (the
   * damaged file is renamed aside first). Never throws for file contents; Storage errors
   * other than a missing file propagate.
   */
  async open(init: ClusterDocInit): Promise<{ doc: ClusterDoc; source: DocSource }> {
    const file = await this.storage.read(DOC_FILE);
    if (file === undefined) return { doc: ClusterDoc.create(init), source: 'genesis' };
    try {
      return { doc: ClusterDoc.load(decodeSavedDoc(file), init), source: 'saved' };
    } catch (err) {
      if (!(err instanceof DocumentLoadError)) throw err;
      const aside = `${DOC_FILE}.corrupt-${this.clock.now()}`;
      await this.storage.rename(DOC_FILE, aside);
      this.logger.error(
        { file: DOC_FILE, movedTo: aside, reason: err.reason, detail: err.message, bytes: file.length },
        'saved cluster document is damaged; moved aside, starting from genesis and re-syncing from peers',
      );
      return { doc: ClusterDoc.create(init), source: 'recovered-from-corruption' };
    }
  }

  /** Saves `doc` (debounced) after each of its changes until {@link stop}. */
  attach(doc: ClusterDoc): void {
    this.detach?.();
    this.doc = doc;
    this.detach = doc.onChange(() => this.markDirty());
  }

  /** Writes now if anything is unsaved; resolves when the write is done. */
  flush(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.dirty) this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  /** Stops watching and flushes. Safe to call twice. */
  async stop(): Promise<void> {
    this.detach?.();
    this.detach = undefined;
    await this.flush();
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.timer !== undefined) return;
    const delay = Math.max(this.debounceMs, Math.min(MAX_SAVE_DEBOUNCE_MS, Math.round(this.lastSaveBytes / SAVE_BYTES_PER_DELAY_MS)));
    this.timer = this.clock.setTimer(delay, () => {
      this.timer = undefined;
      void this.flush();
    });
  }

  private async write(): Promise<void> {
    const doc = this.doc;
    if (doc === undefined || !this.dirty) return;
    this.dirty = false;
    const bytes = encodeSavedDoc(doc.save());
    this.lastSaveBytes = bytes.length;
    try {
      await this.storage.write(DOC_FILE, bytes);
    } catch (err) {
      this.dirty = true;
      this.logger.error({ file: DOC_FILE, err: err instanceof Error ? err.message : String(err) }, 'saving the cluster document failed; will retry');
    }
  }
}
