import { assertStorageName, type Storage } from './storage.js';
import { assertNotTempName } from './storage-temp-names.js';

/**
 * An in-memory {@link Storage} for tests and the simulator (a simulated crash keeps the
 * instance, so a "restarted" node sees exactly what was written).
 *
 * Bytes are copied on the way in and on the way out: a caller mutating its buffer after
 * `write`, or the buffer `read` returned, never changes what is stored. Names are checked
 * exactly as FileStorage checks them, and `rename` of a missing name rejects with
 * `code: 'ENOENT'` as FileStorage does.
 */
export class MemoryStorage implements Storage {
  readonly #blobs = new Map<string, Uint8Array>();

  async read(name: string): Promise<Uint8Array | undefined> {
    checkName(name);
    const data = this.#blobs.get(name);
    return data === undefined ? undefined : new Uint8Array(data);
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    checkName(name);
    this.#blobs.set(name, new Uint8Array(data));
  }

  async remove(name: string): Promise<void> {
    checkName(name);
    this.#blobs.delete(name);
  }

  async rename(name: string, newName: string): Promise<void> {
    checkName(name);
    checkName(newName);
    const data = this.#blobs.get(name);
    if (data === undefined) {
      throw Object.assign(new Error(`ENOENT: no such storage entry ${JSON.stringify(name)}`), { code: 'ENOENT' });
    }
    this.#blobs.delete(name);
    this.#blobs.set(newName, data);
  }

  async list(): Promise<string[]> {
    return [...this.#blobs.keys()].sort();
  }

  /** A copy of everything stored, for assertions in tests. */
  snapshot(): Map<string, Uint8Array> {
    return new Map([...this.#blobs].map(([name, data]) => [name, new Uint8Array(data)]));
  }
}

function checkName(name: string): void {
  assertStorageName(name);
  assertNotTempName(name);
}
