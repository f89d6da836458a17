import { randomBytes, randomInt } from 'node:crypto';
import type { Random } from './random.js';
import { assertByteLength, assertIntBound, TWO_POW_53 } from './random-args.js';

/** `crypto.randomInt` accepts `max` up to 2^48 - 1 only. */
const RANDOM_INT_LIMIT = 2 ** 48;

/**
 * The real randomness source, backed by `node:crypto` (a CSPRNG), for the daemon.
 *
 * One of the two seam adapters allowed to touch ambient randomness (see
 * `scripts/check-ambient.ts`). Draws are not reproducible; use {@link SeededRandom} where a
 * run must be replayed.
 */
export class SystemRandom implements Random {
  /** Uniform float in [0, 1) with 53 random bits. */
  float(): number {
    return random53() / TWO_POW_53;
  }

  /** Uniform integer in [0, maxExclusive), unbiased for every safe-integer bound. */
  int(maxExclusive: number): number {
    assertIntBound(maxExclusive);
    if (maxExclusive < RANDOM_INT_LIMIT) return randomInt(maxExclusive);
    // Rejection sampling over 53-bit draws: accept only below the largest multiple of the bound.
    const limit = TWO_POW_53 - (TWO_POW_53 % maxExclusive);
    for (;;) {
      const r = random53();
      if (r < limit) return r % maxExclusive;
    }
  }

  bytes(length: number): Uint8Array {
    assertByteLength(length);
    const buf = randomBytes(length);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** A new, independent SystemRandom; `label` is ignored (there is nothing to derive from). */
  fork(_label: string): SystemRandom {
    return new SystemRandom();
  }
}

/** A uniform integer in [0, 2^53) from 7 random bytes. */
function random53(): number {
  const b = randomBytes(7);
  // 5 bits from the first byte, then 48 bits from the other six.
  return ((b[0] as number) & 0x1f) * 2 ** 48 + b.readUIntBE(1, 6);
}
