import type { Random } from './random.js';
import { assertByteLength, assertIntBound, TWO_POW_32, TWO_POW_53 } from './random-args.js';

/** What a {@link SeededRandom} can be seeded with. `42`, `'42'` and `42n` are the same seed. */
export type Seed = string | number | bigint;

/** Outputs discarded after seeding, so nearby seeds' streams have diverged (sfc32 advice). */
const WARM_UP_ROUNDS = 15;

/**
 * A deterministic, seedable {@link Random} for tests and the simulator.
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG, 128-bit state, passes
 * PractRand), seeded from the cyrb128 hash of the seed's canonical form. Not cryptographic.
 *
 * Forking: `fork(label)` derives the child's state from the ROOT seed and the full list of
 * fork labels leading to it — never from the parent's current position. So forks may be
 * taken in any order, at any time, and drawing from the parent does not change any child;
 * `fork('a')` twice gives two identical streams. A child is replayed by
 * `new SeededRandom(seed).fork(l1).fork(l2)…`; `toString()` prints that recipe.
 */
export class SeededRandom implements Random {
  /** The root seed this stream (and every fork of it) derives from, for printing a replay command. */
  readonly seed: Seed;
  /** Fork labels from the root to this stream (empty for the root). */
  readonly labels: readonly string[];
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /**
   * @param seed the root seed; its string form is what is hashed.
   * @param labels fork path; `new SeededRandom(s, ['a', 'b'])` equals `new SeededRandom(s).fork('a').fork('b')`.
   */
  constructor(seed: Seed, labels: readonly string[] = []) {
    if (typeof seed === 'number' && !Number.isFinite(seed)) {
      throw new RangeError(`seed must be finite, got ${seed}`);
    }
    this.seed = seed;
    this.labels = Object.freeze(labels.slice());
    // JSON of [seed, ...labels] is an unambiguous encoding of the whole path.
    const [a, b, c, d] = cyrb128(JSON.stringify([String(seed), ...this.labels]));
    this.#a = a;
    this.#b = b;
    this.#c = c;
    this.#d = d;
    for (let i = 0; i < WARM_UP_ROUNDS; i++) this.#next32();
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    return this.#next53() / TWO_POW_53;
  }

  /** Uniform integer in [0, maxExclusive), unbiased (rejection sampling). */
  int(maxExclusive: number): number {
    assertIntBound(maxExclusive);
    if (maxExclusive <= TWO_POW_32) {
      const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
      for (;;) {
        const r = this.#next32();
        if (r < limit) return r % maxExclusive;
      }
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % maxExclusive);
    for (;;) {
      const r = this.#next53();
      if (r < limit) return r % maxExclusive;
    }
  }

  bytes(length: number): Uint8Array {
    assertByteLength(length);
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      let word = this.#next32();
      for (let j = i; j < Math.min(i + 4, length); j++) {
        out[j] = word & 0xff;
        word >>>= 8;
      }
    }
    return out;
  }

  /** The child stream for `label`; see the class comment for why order does not matter. */
  fork(label: string): SeededRandom {
    return new SeededRandom(this.seed, [...this.labels, label]);
  }

  /** `seed/label/label…`, the recipe that replays this stream. */
  toString(): string {
    return [String(this.seed), ...this.labels].join('/');
  }

  /** sfc32 step: an unsigned 32-bit integer. */
  #next32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A uniform integer in [0, 2^53) from two 32-bit outputs. */
  #next53(): number {
    const hi = this.#next32() >>> 11; // 21 bits
    const lo = this.#next32(); // 32 bits
    return hi * TWO_POW_32 + lo;
  }
}

/** cyrb128 (bryc): a fast 128-bit string hash, used only to spread a seed over sfc32's state. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}
