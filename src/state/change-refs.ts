/**
 * Changes gossiped without their dependency list: a reference to the writer's heads instead.
 *
 * Why: an Automerge change names every head the writer's document had, 32 bytes each. When a
 * fleet writes at once — a thousand nodes recording their roles — a document has hundreds of
 * concurrent heads, so each role change was ~13 KB, nearly all of it hashes every receiver
 * holds already: a 1,000-node fleet moved ~26 MB to every node while it formed, and the bytes
 * per node grew with the fleet. A {@link ChangeRef} carries the digest of the writer's heads
 * (the same one replication announces, ClusterDoc.headsDigest), the few dependencies outside
 * them (its own previous change), and the rest of the change as it was. A receiver that held
 * the same heads lately rebuilds the exact change bytes; the change's hash, sent along and
 * checked after rebuilding, proves the rebuild. One that did not treats the change as lost
 * gossip: sync fetches it.
 *
 * Layout of a change chunk (change-bytes.ts): magic (4) | checksum (4) | type (1) | ULEB128
 * body length | body, where the body opens with the dependency count (ULEB128) and the
 * dependencies (32 bytes each, sorted), followed by everything else (`rest` here).
 */
import { createHash } from 'node:crypto';
import { markBuilt } from './change-bytes.js';
import { ChangeRejectedError } from './errors.js';
import { ContentCache } from '../util/content-cache.js';

/** A change without its dependency list (see the module comment). */
export interface ChangeRef {
  /** The change's hash: checked after rebuilding. */
  readonly hash: string;
  /** Digest of the writer's heads the change was written on ({@link headsDigestOf}). */
  readonly base: string;
  /** Dependencies that are not among those heads, sorted. */
  readonly extra: readonly string[];
  /** The change body after its dependencies. */
  readonly rest: Uint8Array;
}

/** Changes whose dependencies number fewer than this travel whole: a reference saves nothing. */
export const MIN_REF_DEPS = 64;

/** Most dependencies outside the writer's heads a reference may list (more travel whole). */
export const MAX_REF_EXTRA = 64;

const MAGIC = [0x85, 0x6f, 0x4a, 0x83] as const;

/** One hash naming a set of heads (sorted): the head itself when there is one, else the sha256 of them joined by commas. */
export function headsDigestOf(heads: readonly string[]): string {
  return heads.length === 1 ? (heads[0] as string) : createHash('sha256').update(heads.join(',')).digest('hex');
}

/** Reads a ULEB128 at `at`; [value, next offset], or undefined when cut short or over 32 bits. */
function uleb(bytes: Uint8Array, at: number): [number, number] | undefined {
  let value = 0;
  for (let shift = 0; shift <= 28; shift += 7) {
    const byte = bytes[at++];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, at];
  }
  return undefined;
}

function ulebBytes(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/**
 * The reference form of a verified change (`hash`, dependencies `deps` as its header lists them)
 * written on `heads` (sorted); undefined when it would not pay or cannot be rebuilt exactly —
 * fewer than {@link MIN_REF_DEPS} dependencies, dependencies not sorted, or heads that are not
 * all among them.
 */
export function changeRef(change: Uint8Array, hash: string, deps: readonly string[], heads: readonly string[]): ChangeRef | undefined {
  if (deps.length < MIN_REF_DEPS || heads.length === 0) return undefined;
  for (let i = 1; i < deps.length; i++) if ((deps[i - 1] as string) >= (deps[i] as string)) return undefined;
  const depSet = new Set(deps);
  if (!heads.every((h) => depSet.has(h))) return undefined;
  const headSet = new Set(heads);
  const length = uleb(change, 9);
  const count = length === undefined ? undefined : uleb(change, length[1]);
  if (count === undefined || count[0] !== deps.length) return undefined;
  const restAt = count[1] + 32 * deps.length;
  if (restAt > change.length) return undefined;
  const extra = deps.filter((d) => !headSet.has(d));
  if (extra.length > MAX_REF_EXTRA || change[8] !== 1) return undefined;
  const ref: ChangeRef = { hash, base: headsDigestOf(heads), extra, rest: change.subarray(restAt) };
  // Only what rebuilds to these very bytes (one minimal chunk, as Automerge writes them) is sent
  // as a reference: a receiver could not tell a reference that does not from a forged one.
  try {
    return view(rebuildChange(ref, heads)).equals(view(change)) ? ref : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rebuilt changes by hash, with the reference they were rebuilt from: a simulated fleet's nodes
 * rebuild each one a thousand times, all of a gossip window's (hundreds) in turn. A daemon keeps
 * at most this many changes it received lately (~13 MB while a 1,000-node fleet records roles).
 */
const rebuilt = new ContentCache<{ readonly ref: ChangeRef; readonly change: Uint8Array }>(1_024);

/**
 * The change `ref` names, rebuilt on `heads` — the heads whose digest is `ref.base`
 * (ClusterDoc.headsWithDigest); a reference rebuilt before is answered from the cache without
 * reading them. Throws {@link ChangeRejectedError} ('bad-checksum') when `heads` do not have
 * that digest or the bytes rebuilt do not hash to `ref.hash`.
 */
export function rebuildChange(ref: ChangeRef, heads: readonly string[]): Uint8Array {
  const hit = rebuilt.get(ref.hash);
  // The same base digest names the same heads, so the same reference rebuilds the same bytes.
  if (hit !== undefined && hit.ref.base === ref.base && sameList(hit.ref.extra, ref.extra) && view(hit.ref.rest).equals(view(ref.rest))) return hit.change;
  if (headsDigestOf(heads) !== ref.base) throw new ChangeRejectedError('bad-checksum', `heads given do not have the reference's base digest ${ref.base}`);
  const deps = [...new Set([...heads, ...ref.extra])].sort();
  const body = Buffer.concat([Uint8Array.from(ulebBytes(deps.length)), Buffer.from(deps.join(''), 'hex'), ref.rest]);
  const change = Buffer.concat([Uint8Array.from([...MAGIC, 0, 0, 0, 0, 1, ...ulebBytes(body.length)]), body]);
  const hash = createHash('sha256').update(change.subarray(8)).digest('hex');
  if (hash !== ref.hash) throw new ChangeRejectedError('bad-checksum', `change rebuilt from a reference hashes to ${hash}, not ${ref.hash}`);
  change.write(hash.slice(0, 8), 4, 'hex');
  const bytes = new Uint8Array(change.buffer, change.byteOffset, change.byteLength);
  markBuilt(bytes, hash);
  rebuilt.getOrCompute(ref.hash, () => ({ ref: { ...ref, rest: Uint8Array.from(ref.rest) }, change: bytes }));
  return bytes;
}

function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
