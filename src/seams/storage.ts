/**
 * Storage seam: a node's small, named, crash-safe blobs (its key, its saved cluster document).
 *
 * `write` is atomic: after a crash at any point a reader sees either the old bytes or the new
 * bytes, never a mix or a truncation (FileStorage: temp file, fsync, rename, fsync dir).
 * Names are flat: `[A-Za-z0-9._-]+`, no path separators.
 */
export interface Storage {
  /** The bytes stored under `name`, or undefined when there is none. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Atomically replaces `name` with `data`. */
  write(name: string, data: Uint8Array): Promise<void>;
  /** Removes `name`; no error when it does not exist. */
  remove(name: string): Promise<void>;
  /** Moves `name` aside to `newName` (e.g. a corrupt document kept for inspection). */
  rename(name: string, newName: string): Promise<void>;
  /** Names currently stored, sorted. */
  list(): Promise<string[]>;
}

const NAME = /^[A-Za-z0-9._-]+$/;

/** Throws a clear error for a name that could escape the storage directory. */
export function assertStorageName(name: string): void {
  if (!NAME.test(name) || name === '.' || name === '..') {
    throw new StorageNameError(name);
  }
}

export class StorageNameError extends Error {
  override readonly name = 'StorageNameError';
  constructor(readonly badName: string) {
    super(`invalid storage name ${JSON.stringify(badName)}: use letters, digits, '.', '_' and '-' only`);
  }
}
