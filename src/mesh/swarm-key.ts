/**
 * Swarm (network) keys for `@libp2p/pnet`: the standard go-ipfs / libp2p text format
 *
 *     /key/swarm/psk/1.0.0/
 *     /base16/
 *     <64 hex digits>
 *
 * Every node of a private network must hold the same 32 key bytes; a node without them
 * cannot complete the connection handshake with any member.
 */
import type { Random } from '../seams/random.js';
import { SwarmKeyError } from './errors.js';

/** Length of the pre-shared key in bytes (xsalsa20 key). */
export const SWARM_KEY_LENGTH = 32;
const HEADER = '/key/swarm/psk/1.0.0/';
const BASE16 = '/base16/';

/** Encodes 32 key bytes as the text file contents (trailing newline included). */
export function formatSwarmKey(key: Uint8Array): string {
  if (key.byteLength !== SWARM_KEY_LENGTH) throw new SwarmKeyError(`key must be ${SWARM_KEY_LENGTH} bytes, got ${key.byteLength}`);
  return `${HEADER}\n${BASE16}\n${Buffer.from(key).toString('hex')}\n`;
}

/** A new swarm key file's contents, drawing the 32 key bytes from `random`. */
export function generateSwarmKey(random: Random): string {
  return formatSwarmKey(random.bytes(SWARM_KEY_LENGTH));
}

/**
 * Parses a swarm key file (text or bytes) and returns the 32 key bytes.
 * Accepts LF or CRLF line ends and surrounding blank lines; only the `/base16/` encoding.
 * @throws SwarmKeyError when the header, encoding or key length is wrong.
 */
export function parseSwarmKey(file: string | Uint8Array): Uint8Array {
  const text = typeof file === 'string' ? file : Buffer.from(file).toString('utf8');
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines[0] !== HEADER) throw new SwarmKeyError(`first line must be ${HEADER}`);
  if (lines[1] !== BASE16) throw new SwarmKeyError(`second line must be ${BASE16} (the only supported encoding)`);
  const hex = lines[2] ?? '';
  if (lines.length > 3) throw new SwarmKeyError('unexpected lines after the key');
  if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== SWARM_KEY_LENGTH * 2) {
    throw new SwarmKeyError(`third line must be ${SWARM_KEY_LENGTH * 2} hex digits`);
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** The canonical file bytes `@libp2p/pnet` expects, after validating `file`. */
export function canonicalSwarmKeyBytes(file: string | Uint8Array): Uint8Array {
  return new TextEncoder().encode(formatSwarmKey(parseSwarmKey(file)));
}
