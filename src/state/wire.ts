/**
 * Replication wire messages: a versioned binary envelope around Automerge bytes.
 *
 * Layout (all integers big-endian):
 *
 *     u8 version (= WIRE_VERSION) | u8 type | u16 headCount | headCount × 32-byte head hashes | body
 *
 *     type 1 'changes': u16 count | count × (u32 length | change bytes)
 *     type 2 'sync':    u8 hasMessage (0|1) | [u32 length | sync message bytes]
 *
 * Decoding is total: any input either yields a well-formed {@link WireMessage} or throws
 * {@link WireDecodeError} with a stable reason. It never looks inside the Automerge bytes;
 * {@link ClusterDoc} checks those.
 */
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
  | { type: 'sync'; heads: string[]; message: Uint8Array | null };

const TYPE_CODES = { changes: 1, sync: 2 } as const;

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
  const blobs = message.type === 'changes' ? message.changes : message.message === null ? [] : [message.message];
  if (message.type === 'changes' && blobs.length > MAX_CHANGES_PER_ENVELOPE) throw new RangeError(`too many changes: ${blobs.length}`);
  const size = 4 + 32 * message.heads.length + (message.type === 'changes' ? 2 : 1) + blobs.reduce((n, b) => n + 4 + b.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = WIRE_VERSION;
  out[at++] = TYPE_CODES[message.type];
  view.setUint16(at, message.heads.length);
  at += 2;
  for (const head of message.heads) {
    if (!HEAD.test(head)) throw new RangeError(`not a change hash: ${head}`);
    out.set(Buffer.from(head, 'hex'), at);
    at += 32;
  }
  if (message.type === 'changes') {
    view.setUint16(at, blobs.length);
    at += 2;
  } else {
    out[at++] = blobs.length;
  }
  for (const blob of blobs) {
    view.setUint32(at, blob.length);
    at += 4;
    out.set(blob, at);
    at += blob.length;
  }
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
  const heads: string[] = [];
  for (let i = 0; i < headCount; i++) {
    heads.push(Buffer.from(data.subarray(at, at + 32)).toString('hex'));
    at += 32;
  }
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
  let message: WireMessage;
  if (code === TYPE_CODES.changes) {
    need(2, 'change count');
    const count = view.getUint16(at);
    at += 2;
    if (count > MAX_CHANGES_PER_ENVELOPE) throw new WireDecodeError('undecodable', `${count} changes > ${MAX_CHANGES_PER_ENVELOPE}`);
    const changes: Uint8Array[] = [];
    for (let i = 0; i < count; i++) changes.push(blob());
    message = { type: 'changes', heads, changes };
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
