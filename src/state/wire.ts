/**
 * Replication wire messages: a versioned binary envelope around Automerge bytes.
 *
 * Layout (all integers big-endian):
 *
 *     u8 version (= WIRE_VERSION) | u8 type | u16 headCount | headCount × 32-byte head hashes | body
 *
 *     type 1 'changes':     u16 count | count × (u32 length | change bytes)
 *     type 2 'sync':        u8 hasMessage (0|1) | [u32 length | sync message bytes]
 *     type 3 'change-refs': u16 count | count × (32-byte hash | 32-byte base | u16 extraCount |
 *                           extraCount × 32-byte hash | u32 length | rest bytes)
 *     type 4 'want':        u16 count | count × 32-byte hash
 *
 * Decoding is total: any input either yields a well-formed {@link WireMessage} or throws
 * {@link WireDecodeError} with a stable reason. It never looks inside the Automerge bytes;
 * {@link ClusterDoc} checks those.
 */
import { MAX_REF_EXTRA, type ChangeRef } from './change-refs.js';
import type { RejectReason } from './errors.js';

/** Current envelope version. A receiver drops versions it does not know (reason 'unsupported-version'). */
export const WIRE_VERSION = 1;

/**
 * Largest gossip envelope we publish or accept: 256 KiB. A change is one write (a member record
 * is ~0.5 KiB; a policy YAML tens of KiB). A local change too big for gossip is not published;
 * peers fetch it through sync.
 */
export const MAX_GOSSIP_BYTES = 256 * 1024;

/**
 * Largest sync envelope we send or accept: 8 MiB. Automerge puts every change a peer lacks into
 * one sync message, so this bounds the catch-up of a fresh node (a 1,000-member document with
 * its history is well below it).
 */
export const MAX_SYNC_BYTES = 8 * 1024 * 1024;

/** Most heads an envelope may carry. PACE announces one: the heads digest (ClusterDoc.headsDigest). */
export const MAX_HEADS = 256;

/** Most changes in one gossip envelope. */
export const MAX_CHANGES_PER_ENVELOPE = 64;

export type WireMessage =
  /**
   * Gossip on `pace/<cluster>/changes/<schema>`: changes the publisher just made, and the publisher's
   * heads right after them (input to the convergence view).
   */
  | { type: 'changes'; heads: string[]; changes: Uint8Array[] }
  /**
   * One turn of the Automerge sync protocol on `/pace/<cluster>/sync/<schema>`, used for both the
   * request and the response. `message` is null when the sender has nothing more to say;
   * `heads` are the sender's heads when it built the message.
   */
  | { type: 'sync'; heads: string[]; message: Uint8Array | null }
  /**
   * Gossip like 'changes', for changes written on many concurrent heads: each without its
   * dependency list, which the receiver rebuilds from the writer's heads (change-refs.ts).
   */
  | { type: 'change-refs'; heads: string[]; refs: ChangeRef[] }
  /**
   * A request on the sync protocol for changes by hash (change references a receiver could not
   * rebuild); answered with a 'changes' envelope holding those the responder has.
   */
  | { type: 'want'; heads: string[]; hashes: string[] };

const TYPE_CODES = { changes: 1, sync: 2, 'change-refs': 3, want: 4 } as const;



/** An envelope could not be decoded; nothing in it was used. */
export class WireDecodeError extends Error {
  override readonly name = 'WireDecodeError';
  constructor(readonly reason: RejectReason, detail: string) {
    super(`bad envelope (${reason}): ${detail}`);
  }
}

const HEAD = /^[0-9a-f]{64}$/;

/** Encodes a message. Throws RangeError for heads that are not 32-byte hex hashes or counts over the limits. */
export function encodeWire(message: WireMessage): Uint8Array {
  if (message.heads.length > MAX_HEADS) throw new RangeError(`too many heads: ${message.heads.length}`);
  const parts: Uint8Array[] = [Uint8Array.of(WIRE_VERSION, TYPE_CODES[message.type]), u16(message.heads.length), ...message.heads.map(hashBytes)];
  if (message.type === 'changes') {
    if (message.changes.length > MAX_CHANGES_PER_ENVELOPE) throw new RangeError(`too many changes: ${message.changes.length}`);
    parts.push(u16(message.changes.length));
    for (const change of message.changes) parts.push(u32(change.length), change);
  } else if (message.type === 'change-refs') {
    if (message.refs.length > MAX_CHANGES_PER_ENVELOPE) throw new RangeError(`too many changes: ${message.refs.length}`);
    parts.push(u16(message.refs.length));
    for (const ref of message.refs) {
      if (ref.extra.length > MAX_REF_EXTRA) throw new RangeError(`too many extra dependencies: ${ref.extra.length}`);
      parts.push(hashBytes(ref.hash), hashBytes(ref.base), u16(ref.extra.length), ...ref.extra.map(hashBytes), u32(ref.rest.length), ref.rest);
    }
  } else if (message.type === 'want') {
    if (message.hashes.length > MAX_CHANGES_PER_ENVELOPE) throw new RangeError(`too many changes: ${message.hashes.length}`);
    parts.push(u16(message.hashes.length), ...message.hashes.map(hashBytes));
  } else {
    parts.push(Uint8Array.of(message.message === null ? 0 : 1));
    if (message.message !== null) parts.push(u32(message.message.length), message.message);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function hashBytes(hash: string): Uint8Array {
  if (!HEAD.test(hash)) throw new RangeError(`not a change hash: ${hash}`);
  return Buffer.from(hash, 'hex');
}

function u16(value: number): Uint8Array {
  return Uint8Array.of(value >>> 8, value & 0xff);
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** Decodes an envelope no larger than `maxBytes`, or throws {@link WireDecodeError}. */
export function decodeWire(data: Uint8Array, maxBytes: number): WireMessage {
  if (data.length > maxBytes) throw new WireDecodeError('oversized', `${data.length} bytes > limit ${maxBytes}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 0;
  const need = (n: number, what: string): void => {
    if (at + n > data.length) throw new WireDecodeError('undecodable', `truncated in ${what}`);
  };
  need(4, 'header');
  const version = data[at++] as number;
  if (version !== WIRE_VERSION) throw new WireDecodeError('unsupported-version', `version ${version}`);
  const code = data[at++] as number;
  const headCount = view.getUint16(at);
  at += 2;
  if (headCount > MAX_HEADS) throw new WireDecodeError('undecodable', `${headCount} heads > ${MAX_HEADS}`);
  need(32 * headCount, 'heads');
  const hash = (): string => {
    need(32, 'hash');
    const text = Buffer.from(data.buffer, data.byteOffset + at, 32).toString('hex');
    at += 32;
    return text;
  };
  const heads: string[] = [];
  for (let i = 0; i < headCount; i++) heads.push(hash());
  const blob = (): Uint8Array => {
    need(4, 'length');
    const length = view.getUint32(at);
    at += 4;
    need(length, 'body');
    // A view, not a copy: nothing writes into received bytes (Mesh's 'message' contract), and a
    // 1,000-node simulation copied 13 GB here in its role stretch.
    const bytes = data.subarray(at, at + length);
    at += length;
    return bytes;
  };
  /** A u16 count of `what`, at most `limit`. */
  const count = (what: string, limit: number): number => {
    need(2, `${what} count`);
    const n = view.getUint16(at);
    at += 2;
    if (n > limit) throw new WireDecodeError('undecodable', `${n} ${what} > ${limit}`);
    return n;
  };
  let message: WireMessage;
  if (code === TYPE_CODES.changes) {
    const n = count('changes', MAX_CHANGES_PER_ENVELOPE);
    const changes: Uint8Array[] = [];
    for (let i = 0; i < n; i++) changes.push(blob());
    message = { type: 'changes', heads, changes };
  } else if (code === TYPE_CODES['change-refs']) {
    const n = count('changes', MAX_CHANGES_PER_ENVELOPE);
    const refs: ChangeRef[] = [];
    for (let i = 0; i < n; i++) {
      const refHash = hash();
      const base = hash();
      const extraCount = count('extra dependencies', MAX_REF_EXTRA);
      const extra: string[] = [];
      for (let e = 0; e < extraCount; e++) extra.push(hash());
      refs.push({ hash: refHash, base, extra, rest: blob() });
    }
    message = { type: 'change-refs', heads, refs };
  } else if (code === TYPE_CODES.want) {
    const n = count('changes', MAX_CHANGES_PER_ENVELOPE);
    const hashes: string[] = [];
    for (let i = 0; i < n; i++) hashes.push(hash());
    message = { type: 'want', heads, hashes };
  } else if (code === TYPE_CODES.sync) {
    need(1, 'message flag');
    const has = data[at++] as number;
    if (has > 1) throw new WireDecodeError('undecodable', `message flag ${has}`);
    message = { type: 'sync', heads, message: has === 1 ? blob() : null };
  } else {
    throw new WireDecodeError('unexpected-type', `type code ${code}`);
  }
  if (at !== data.length) throw new WireDecodeError('undecodable', `${data.length - at} trailing bytes`);
  return message;
}
