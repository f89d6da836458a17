/**
 * INTERIM test-only seam implementations, until SystemClock / SeededRandom / MemoryStorage
 * land on main (src/seams/*). Delete this file when rebasing onto them.
 */
import { sleepOn } from '../../src/seams/clock.js';
import type { Clock, Timer } from '../../src/seams/clock.js';
import type { Random } from '../../src/seams/random.js';
import { assertStorageName } from '../../src/seams/storage.js';
import type { Storage } from '../../src/seams/storage.js';

export class InterimSystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimer(delayMs: number, callback: () => void): Timer {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(handle) };
  }
  sleep(delayMs: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    return sleepOn(this, delayMs, options.signal);
  }
}

/** mulberry32 — small, seeded, good enough for tests. */
export class InterimSeededRandom implements Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  private next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  float(): number {
    return this.next();
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }
  fork(label: string): Random {
    let h = this.state;
    for (const ch of label) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    return new InterimSeededRandom(h);
  }
}

export class InterimMemoryStorage implements Storage {
  private readonly blobs = new Map<string, Uint8Array>();
  read(name: string): Promise<Uint8Array | undefined> {
    assertStorageName(name);
    const v = this.blobs.get(name);
    return Promise.resolve(v === undefined ? undefined : v.slice());
  }
  write(name: string, data: Uint8Array): Promise<void> {
    assertStorageName(name);
    this.blobs.set(name, data.slice());
    return Promise.resolve();
  }
  remove(name: string): Promise<void> {
    this.blobs.delete(name);
    return Promise.resolve();
  }
  rename(name: string, newName: string): Promise<void> {
    assertStorageName(newName);
    const v = this.blobs.get(name);
    if (v !== undefined) {
      this.blobs.set(newName, v);
      this.blobs.delete(name);
    }
    return Promise.resolve();
  }
  list(): Promise<string[]> {
    return Promise.resolve([...this.blobs.keys()].sort());
  }
}
