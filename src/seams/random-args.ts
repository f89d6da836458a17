/** Argument checks shared by every {@link Random} implementation, so they fail alike. */

/** Throws unless `maxExclusive` is a positive safe integer (the `Random.int` contract). */
export function assertIntBound(maxExclusive: number): void {
  if (!Number.isSafeInteger(maxExclusive) || maxExclusive < 1) {
    throw new RangeError(`int(${maxExclusive}): maxExclusive must be a positive safe integer`);
  }
}

/** Throws unless `length` is a non-negative safe integer (the `Random.bytes` contract). */
export function assertByteLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`bytes(${length}): length must be a non-negative safe integer`);
  }
}

/** 2^32, the number of values one 32-bit draw can take. */
export const TWO_POW_32 = 0x1_0000_0000;
/** 2^53, the number of integers a double represents exactly from 0. */
export const TWO_POW_53 = 2 ** 53;
