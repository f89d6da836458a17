/**
 * Checks on raw Automerge change bytes received from peers, before they reach the document.
 *
 * Automerge does not verify the checksum in an uncompressed change chunk: a flipped bit yields a
 * "valid" change with a different hash, and if it reuses a real (actor, seq) it would make the
 * genuine change be refused later as a duplicate. So we verify it here: layout is
 * magic (4 bytes 85 6f 4a 83) | checksum (first 4 bytes of the change hash) | chunk type (1 = change) | ...
 */
import * as Automerge from '@automerge/automerge';
import { ChangeRejectedError } from './errors.js';

const MAGIC = [0x85, 0x6f, 0x4a, 0x83] as const;
const CHUNK_TYPE_CHANGE = 1;

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Returns the change's hash, or throws {@link ChangeRejectedError} ('undecodable' / 'bad-checksum'). */
export function verifyChange(change: Uint8Array): string {
  if (change.length < 9 || MAGIC.some((b, i) => change[i] !== b)) {
    throw new ChangeRejectedError('undecodable', 'not an Automerge change chunk');
  }
  if (change[8] !== CHUNK_TYPE_CHANGE) throw new ChangeRejectedError('undecodable', `unexpected chunk type ${change[8]}`);
  let hash: string;
  try {
    hash = Automerge.decodeChange(change).hash;
  } catch (err) {
    throw new ChangeRejectedError('undecodable', err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (hex(change.subarray(4, 8)) !== hash.slice(0, 8)) throw new ChangeRejectedError('bad-checksum', `checksum does not match change ${hash}`);
  return hash;
}

/**
 * Checks a sync message: it must decode, and every uncompressed change it carries must pass
 * {@link verifyChange}. (Compressed chunks are checksum-verified by Automerge itself.)
 */
export function verifySyncMessage(message: Uint8Array): void {
  let decoded: Automerge.DecodedSyncMessage;
  try {
    decoded = Automerge.decodeSyncMessage(message);
  } catch (err) {
    throw new ChangeRejectedError('undecodable', err instanceof Error ? err.message : String(err), { cause: err });
  }
  for (const change of decoded.changes) if (change[8] === CHUNK_TYPE_CHANGE) verifyChange(change);
}
