/**
 * TEST-ONLY stand-in for the MemoryStorage landing on main (src/seams/memory-storage.ts).
 * Delete when rebasing on main and import the real one.
 */
import { assertStorageName, type Storage } from '../../src/seams/storage.js';

export class MemoryStorage implements Storage {
  readonly files = new Map<string, Uint8Array>();

  read(name: string): Promise<Uint8Array | undefined> {
    assertStorageName(name);
    const data = this.files.get(name);
    return Promise.resolve(data === undefined ? undefined : data.slice());
  }

  write(name: string, data: Uint8Array): Promise<void> {
    assertStorageName(name);
    this.files.set(name, data.slice());
    return Promise.resolve();
  }

  remove(name: string): Promise<void> {
    assertStorageName(name);
    this.files.delete(name);
    return Promise.resolve();
  }

  rename(name: string, newName: string): Promise<void> {
    assertStorageName(name);
    assertStorageName(newName);
    const data = this.files.get(name);
    if (data === undefined) return Promise.reject(new Error(`no such file: ${name}`));
    this.files.delete(name);
    this.files.set(newName, data);
    return Promise.resolve();
  }

  list(): Promise<string[]> {
    return Promise.resolve([...this.files.keys()].sort());
  }
}
