/**
 * Rendezvous (highest-random-weight) ranking: every node ranks the same candidates the same way
 * for a given key, without talking. PACE uses it to pick who writes a record that any node
 * could write — a `down` verdict, a merge of the document's heads — so that in a fleet of
 * 1,000 one or two nodes write it instead of all of them, and the rest stand by in rank order.
 */

/** 32-bit FNV-1a of a string's UTF-16 code units: fast, deterministic, well mixed for ranking. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // Final avalanche so keys that differ in their last characters still spread.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash >>> 0;
}

/**
 * How many candidates outrank `self` for `key` (0 = first). `self` need not be among the
 * candidates; ties break by id so every node agrees.
 */
export function rendezvousRank(key: string, self: string, candidates: Iterable<string>): number {
  const mine = fnv1a(`${key}\u0000${self}`);
  let rank = 0;
  for (const id of candidates) {
    if (id === self) continue;
    const score = fnv1a(`${key}\u0000${id}`);
    if (score > mine || (score === mine && id < self)) rank++;
  }
  return rank;
}
