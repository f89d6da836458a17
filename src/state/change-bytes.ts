/**
 * Checks on raw Automerge change bytes received from peers, before they reach the document.
 *
 * Automerge does not verify the checksum in an uncompressed change chunk: a flipped bit yields a
 * "valid" change with a different hash, and if it reuses a real (actor, seq) it would make the
 * genuine change be refused later as a duplicate. So we verify it here: layout is
 * magic (4 bytes 85 6f 4a 83) | checksum (first 4 bytes of the change hash) | chunk type (1 = change) | ...
 * and the change hash is the sha256 of everything from the chunk type on.
 *
 * The body itself is decoded by Automerge when the change is applied, which refuses what does
 * not decode; decoding it here as well (into JS objects) cost a large fleet a tenth of its time.
 */
import { createHash } from 'node:crypto';
import { Automerge } from './automerge-backend.js';
import { ChangeRejectedError } from './errors.js';
import { ContentCache } from '../util/content-cache.js';

const MAGIC = [0x85, 0x6f, 0x4a, 0x83] as const;
const CHUNK_TYPE_DOCUMENT = 0;
const CHUNK_TYPE_CHANGE = 1;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A change that passed {@link verifyChange}: a private copy of its bytes, its hash, its header once read. */
interface KnownChange {
  readonly bytes: Buffer;
  readonly hash: string;
  header?: ChangeHeader | null;
}

/**
 * Changes verified lately, by length and claimed checksum, shared by the process: a change
 * gossiped to a simulated fleet arrives at every node (a thousand times, up to 13 KB each while
 * 1,000 nodes record their roles, hashed and parsed at each), and a daemon may get one change by
 * gossip and again by sync. A hit is an exact byte comparison against the copy, so it answers
 * what verifying would; a claimed checksum is the sender's to choose, so at most a few changes
 * are kept per key.
 */
const knownChanges = new ContentCache<KnownChange[]>(4_096);
const MAX_KNOWN_PER_KEY = 4;

function knownKey(change: Uint8Array): string {
  // The claimed checksum as a number: no hex string per lookup.
  return `${change.length}:${(((change[4] as number) << 24) | ((change[5] as number) << 16) | ((change[6] as number) << 8) | (change[7] as number)) >>> 0}`;
}

function known(change: Uint8Array): KnownChange | undefined {
  if (change.length < 10) return undefined;
  const bytes = Buffer.from(change.buffer, change.byteOffset, change.byteLength);
  return knownChanges.get(knownKey(change))?.find((k) => k.bytes.equals(bytes));
}

/**
 * Change objects this process built and checked itself, with their hash (see {@link markBuilt}):
 * a simulated fleet's nodes all receive the one object rebuilt from a change reference, 13 KB
 * while a large fleet records its roles, which would otherwise be compared byte by byte at each.
 */
const builtObjects = new WeakMap<Uint8Array, string>();
/** Headers of {@link builtObjects}, read on first use (null: it does not read). */
const builtHeaders = new WeakMap<Uint8Array, ChangeHeader | null>();

/**
 * Records that `change` — bytes this process built, checked to hash to `hash`, and never hands
 * to anyone who modifies them (change-refs.ts) — needs no further check. Never for bytes from a
 * caller or a peer: those are checked, or compared with a private copy, every time.
 */
export function markBuilt(change: Uint8Array, hash: string): void {
  builtObjects.set(change, hash);
}

/** Returns the change's hash, or throws {@link ChangeRejectedError} ('undecodable' / 'bad-checksum'). */
export function verifyChange(change: Uint8Array): string {
  const built = builtObjects.get(change);
  if (built !== undefined) return built;
  const hit = known(change);
  if (hit !== undefined) return hit.hash;
  if (change.length < 10 || MAGIC.some((b, i) => change[i] !== b)) {
    throw new ChangeRejectedError('undecodable', 'not an Automerge change chunk');
  }
  if (change[8] !== CHUNK_TYPE_CHANGE) throw new ChangeRejectedError('undecodable', `unexpected chunk type ${change[8]}`);
  const chunks = splitChunks(change);
  if (chunks.length !== 1) throw new ChangeRejectedError('undecodable', `${chunks.length} chunks where one change was expected`);
  const hash = createHash('sha256').update(change.subarray(8)).digest('hex');
  if (hex(change.subarray(4, 8)) !== hash.slice(0, 8)) throw new ChangeRejectedError('bad-checksum', `checksum does not match change ${hash}`);
  const list = knownChanges.getOrCompute(knownKey(change), () => []);
  if (list.length < MAX_KNOWN_PER_KEY) list.push({ bytes: Buffer.from(change), hash });
  return hash;
}

/**
 * Dependency lists by their bytes (hex), shared: the changes a fleet writes within one gossip
 * window all depend on the same heads — hundreds of them while a large fleet records its roles —
 * so every node reading every such change would otherwise build the same long list again.
 */
const depLists = new ContentCache<readonly string[]>(1_024);

export interface ChangeHeader {
  readonly deps: readonly string[];
  readonly actor: string;
}

/**
 * The dependencies and the author (actor id, hex) of a change that passed {@link verifyChange}:
 * the body starts with the dependencies (a ULEB128 count, then 32-byte hashes), followed by the
 * actor id (a ULEB128 length, then its bytes). Undefined when the bytes do not hold that much.
 * Equal dependency lists are one frozen array (compare them by identity to skip repeats).
 */
export function changeHeader(change: Uint8Array): ChangeHeader | undefined {
  if (builtObjects.has(change)) {
    // One object for every node of a simulated fleet: read once, never compared byte by byte.
    let header = builtHeaders.get(change);
    if (header === undefined) builtHeaders.set(change, (header = readHeader(change) ?? null));
    return header ?? undefined;
  }
  const hit = known(change);
  if (hit === undefined) return readHeader(change);
  if (hit.header === undefined) hit.header = readHeader(change) ?? null;
  return hit.header ?? undefined;
}

function readHeader(change: Uint8Array): ChangeHeader | undefined {
  const bytes = new ByteCursor(change, 9);
  if (bytes.uleb() === undefined) return undefined; // chunk length
  const count = bytes.uleb();
  if (count === undefined || bytes.at + count * 32 > change.length) return undefined;
  const depsHex = hex(change.subarray(bytes.at, bytes.at + count * 32));
  bytes.at += count * 32;
  const deps = depLists.getOrCompute(depsHex, () => Object.freeze(Array.from({ length: count }, (_, i) => depsHex.slice(i * 64, i * 64 + 64))));
  const actorLength = bytes.uleb();
  if (actorLength === undefined || bytes.at + actorLength > change.length) return undefined;
  return { deps, actor: hex(change.subarray(bytes.at, bytes.at + actorLength)) };
}

/** Reads ULEB128 numbers (at most five bytes) from `bytes`, starting at `at`. */
class ByteCursor {
  constructor(readonly bytes: Uint8Array, public at: number) {}

  /** The next number; undefined when the bytes end first or it runs over five bytes. */
  uleb(): number | undefined {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      const byte = this.bytes[this.at++];
      if (byte === undefined) return undefined;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    return undefined;
  }
}

/**
 * Checks a sync message: it must decode, and every uncompressed change it carries must pass
 * {@link verifyChange}. (Compressed chunks are checksum-verified by Automerge itself.)
 * Returns the change entries it carries (Automerge 3 sends changes as a compressed document
 * chunk, whose hashes and dependencies are not read here; see {@link documentChunkHeads}).
 *
 * One entry of a sync message's `changes` may hold several change chunks back to back
 * (Automerge 3 batches a peer's consecutive changes; seen over real libp2p): each chunk is
 * split off by its length header and checked on its own. A header that runs past the end is
 * 'undecodable'.
 */
export function verifySyncMessage(message: Uint8Array): readonly Uint8Array[] {
  let decoded: Automerge.DecodedSyncMessage;
  try {
    decoded = Automerge.decodeSyncMessage(message);
  } catch (err) {
    throw new ChangeRejectedError('undecodable', err instanceof Error ? err.message : String(err), { cause: err });
  }
  for (const entry of decoded.changes) {
    for (const chunk of splitChunks(entry)) if (chunk[8] === CHUNK_TYPE_CHANGE) verifyChange(chunk);
  }
  return decoded.changes;
}

/**
 * The heads (sorted hex) of a whole document sent as one document chunk — what the first sync
 * message of a session carries: Automerge 3 answers a peer it has no shared heads with by
 * sending its entire document, every change of it. Undefined when `entry` is not exactly one
 * document chunk or its header does not read. Layout after the chunk header (magic, checksum,
 * type 0, ULEB128 length): the actors (a ULEB128 count, each a ULEB128 length and its bytes),
 * then the heads (a ULEB128 count, then 32-byte hashes). The checksum is Automerge's to verify
 * when the chunk is loaded.
 */
export function documentChunkHeads(entry: Uint8Array): string[] | undefined {
  if (entry.length < 10 || MAGIC.some((b, i) => entry[i] !== b) || entry[8] !== CHUNK_TYPE_DOCUMENT) return undefined;
  const bytes = new ByteCursor(entry, 9);
  const length = bytes.uleb();
  if (length === undefined || bytes.at + length !== entry.length) return undefined;
  const actors = bytes.uleb();
  if (actors === undefined) return undefined;
  for (let i = 0; i < actors; i++) {
    const actorLength = bytes.uleb();
    if (actorLength === undefined || (bytes.at += actorLength) > entry.length) return undefined;
  }
  const count = bytes.uleb();
  if (count === undefined || bytes.at + count * 32 > entry.length) return undefined;
  const heads: string[] = [];
  for (let i = 0; i < count; i++, bytes.at += 32) heads.push(hex(entry.subarray(bytes.at, bytes.at + 32)));
  return heads.sort();
}

/**
 * Splits concatenated Automerge chunks: magic (4) | checksum (4) | type (1) | ULEB128 length |
 * body. Throws {@link ChangeRejectedError} ('undecodable') when a header is cut short, the magic
 * is wrong, or a length runs past the end.
 */
export function splitChunks(bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 10 || MAGIC.some((b, i) => bytes[at + i] !== b)) throw new ChangeRejectedError('undecodable', `not an Automerge chunk at byte ${at}`);
    let length = 0;
    let shift = 0;
    let p = at + 9;
    for (;;) {
      const byte = bytes[p++];
      if (byte === undefined || shift > 28) throw new ChangeRejectedError('undecodable', `bad chunk length at byte ${at}`);
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
    }
    const end = p + length;
    if (end > bytes.length) throw new ChangeRejectedError('undecodable', `chunk at byte ${at} runs ${end - bytes.length} bytes past the end`);
    chunks.push(bytes.subarray(at, end));
    at = end;
  }
  return chunks;
}
