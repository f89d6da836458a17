/**
 * Random seam: the only source of randomness in PACE code.
 *
 * The daemon uses {@link SystemRandom} (crypto-backed); tests and the simulator use
 * {@link SeededRandom}, where one seed decides every draw and `fork(label)` gives each node or
 * component an independent, reproducible stream.
 */
export interface Random {
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [0, maxExclusive). `maxExclusive` must be a positive safe integer. */
  int(maxExclusive: number): number;
  /** `length` uniformly random bytes. */
  bytes(length: number): Uint8Array;
  /** An independent stream derived from this one and `label` (deterministic for SeededRandom). */
  fork(label: string): Random;
}

/** Fisher–Yates shuffle of a copy of `items`, drawing from `random`. */
export function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

/** One element of a non-empty list, or undefined for an empty one. */
export function pick<T>(random: Random, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[random.int(items.length)];
}
