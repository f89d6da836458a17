/**
 * TEST-ONLY stand-in for the SeededRandom landing on main (src/seams/seeded-random.ts).
 * Delete when rebasing on main and import the real one. mulberry32, labels hashed with FNV-1a.
 */
import type { Random } from '../../src/seams/random.js';

function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class SeededRandom implements Random {
  private state: number;

  constructor(readonly seed: number) {
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
    return new SeededRandom(fnv1a(label, this.int(2 ** 32)));
  }
}
