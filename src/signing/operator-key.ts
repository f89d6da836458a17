/**
 * Operator keys: the ed25519 key pairs with which operators sign policies (DESIGN.md §8).
 *
 * File formats (written by `pace keygen`, read by `pace policy sign|verify` and the agent):
 *
 * - Private key: PEM, PKCS#8 (`-----BEGIN PRIVATE KEY-----`), as node:crypto and
 *   `openssl genpkey -algorithm ed25519` write it. Kept in a file of mode 0600.
 * - Public key: one line `pace-ed25519 <base64 of the raw 32-byte key> [comment]`, like an
 *   OpenSSH `authorized_keys` line. The comment is free text (it may contain spaces) and is
 *   not part of the key. A public key *file* may hold several such lines; blank lines and
 *   lines starting with `#` are ignored.
 *
 * A key's id ({@link keyIdOf}) is the first 16 hex digits of the SHA-256 of the raw 32-byte
 * public key: short enough to print, stable across file formats and comments.
 *
 * Everything here is pure (no I/O); parse functions take the text and a `source` (a file
 * name, or e.g. `PACE_TRUSTED_KEYS`) that every error message names. Key-pair generation
 * draws its randomness inside node:crypto's keygen.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** The first word of a public key line. */
export const PUBLIC_KEY_TYPE = 'pace-ed25519';
/** Length of a raw ed25519 public key. */
export const RAW_PUBLIC_KEY_BYTES = 32;
/** Length of a key id in hex digits. */
export const KEY_ID_HEX_DIGITS = 16;
/** Longest public key line we accept (key + a generous comment). */
const MAX_LINE_CHARS = 4096;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A trusted (or to-be-trusted) operator public key. */
export interface OperatorPublicKey {
  /** {@link keyIdOf} the raw key. */
  readonly keyId: string;
  /** The raw 32-byte ed25519 public key. */
  readonly raw: Uint8Array;
  /** The key as node:crypto uses it for `verify`. */
  readonly key: KeyObject;
  /** The comment from the key line, or '' when there is none. */
  readonly comment: string;
}

/** An operator's private key, with the public half derived from it. */
export interface OperatorPrivateKey {
  readonly keyId: string;
  /** The key as node:crypto uses it for `sign`. */
  readonly key: KeyObject;
  readonly publicKey: OperatorPublicKey;
}

/** A key file or key line that cannot be used; the message names the source and the problem. */
export class KeyFormatError extends Error {
  override readonly name = 'KeyFormatError';
  /**
   * @param source the file (or variable) the key came from
   * @param line 1-based line in `source`, or 0 when the problem is not on one line
   * @param problem what is wrong, without the source prefix
   */
  constructor(readonly source: string, readonly line: number, readonly problem: string) {
    super(`${line > 0 ? `${source}:${line}` : source}: ${problem}`);
  }
}

/** First 16 hex digits of SHA-256 over the raw 32-byte public key. */
export function keyIdOf(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, KEY_ID_HEX_DIGITS);
}

/** A fresh ed25519 key pair (randomness comes from node:crypto's keygen). */
export function generateOperatorKey(comment = ''): OperatorPrivateKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateFromKeyObject(privateKey, comment);
}

/** The PKCS#8 PEM text of a private key (what goes into `NAME.key`). */
export function encodePrivateKeyPem(key: OperatorPrivateKey): string {
  return key.key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** `pace-ed25519 <base64> [comment]` (no newline). */
export function formatPublicKeyLine(key: OperatorPublicKey): string {
  const base = `${PUBLIC_KEY_TYPE} ${Buffer.from(key.raw).toString('base64')}`;
  return key.comment === '' ? base : `${base} ${key.comment}`;
}

/** A public key from its raw 32 bytes. Throws {@link KeyFormatError} for the wrong length. */
export function publicKeyFromRaw(raw: Uint8Array, comment = '', source = 'public key'): OperatorPublicKey {
  if (raw.length !== RAW_PUBLIC_KEY_BYTES) {
    throw new KeyFormatError(source, 0, `an ed25519 public key is ${RAW_PUBLIC_KEY_BYTES} bytes, got ${raw.length}`);
  }
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
  return { keyId: keyIdOf(raw), raw: Uint8Array.from(raw), key, comment };
}

/**
 * Parses one public key line. `line` (1-based, 0 for none) only labels errors.
 * Throws {@link KeyFormatError} naming `source` and what is wrong.
 */
export function parsePublicKeyLine(text: string, source: string, line = 0): OperatorPublicKey {
  const trimmed = text.trim();
  if (trimmed.length > MAX_LINE_CHARS) throw new KeyFormatError(source, line, `public key line is longer than ${MAX_LINE_CHARS} characters`);
  const match = /^(\S+)(?:\s+(\S+))?(?:\s+(.*))?$/.exec(trimmed);
  if (!match || trimmed === '') throw new KeyFormatError(source, line, `expected '${PUBLIC_KEY_TYPE} <base64 key> [comment]', got an empty line`);
  const [, type, encoded, comment] = match;
  if (type !== PUBLIC_KEY_TYPE) {
    const hint = type?.startsWith('-----BEGIN') ? ' (this looks like a PEM file: pass the .pub file, not the private key)' : '';
    throw new KeyFormatError(source, line, `expected a line starting with '${PUBLIC_KEY_TYPE}', got '${clip(type ?? '')}'${hint}`);
  }
  if (encoded === undefined) throw new KeyFormatError(source, line, `missing the base64 key after '${PUBLIC_KEY_TYPE}'`);
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) {
    throw new KeyFormatError(source, line, `the key '${clip(encoded)}' is not valid base64`);
  }
  const raw = Buffer.from(encoded, 'base64');
  if (raw.length !== RAW_PUBLIC_KEY_BYTES) {
    throw new KeyFormatError(source, line, `an ed25519 public key is ${RAW_PUBLIC_KEY_BYTES} bytes, this one decodes to ${raw.length}`);
  }
  try {
    return publicKeyFromRaw(raw, comment?.trim() ?? '', source);
  } catch (err) {
    throw new KeyFormatError(source, line, `not a usable ed25519 public key (${(err as Error).message})`);
  }
}

/**
 * Parses the text of a public key file: one or more key lines; blank lines and `#` comments
 * are skipped. Throws {@link KeyFormatError} (with the line number) for the first bad line,
 * or when the file holds no key at all.
 */
export function parsePublicKeyFile(text: string, source: string): OperatorPublicKey[] {
  const keys: OperatorPublicKey[] = [];
  text.split(/\r?\n/).forEach((lineText, i) => {
    const t = lineText.trim();
    if (t === '' || t.startsWith('#')) return;
    keys.push(parsePublicKeyLine(t, source, i + 1));
  });
  if (keys.length === 0) throw new KeyFormatError(source, 0, `no public key found (expected a line '${PUBLIC_KEY_TYPE} <base64 key> [comment]')`);
  return keys;
}

/** Parses a PKCS#8 PEM ed25519 private key. Throws {@link KeyFormatError} naming `source`. */
export function parsePrivateKeyPem(text: string, source: string, comment = ''): OperatorPrivateKey {
  if (text.trimStart().startsWith(PUBLIC_KEY_TYPE)) {
    throw new KeyFormatError(source, 0, 'this is a public key line: sign with the private key file (NAME.key)');
  }
  if (!text.includes('-----BEGIN PRIVATE KEY-----')) {
    const hint = text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') ? ' (encrypted keys are not supported)' : '';
    throw new KeyFormatError(source, 0, `expected a PEM private key ('-----BEGIN PRIVATE KEY-----', PKCS#8)${hint}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (err) {
    throw new KeyFormatError(source, 0, `cannot decode the PEM private key (${firstLine((err as Error).message)})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new KeyFormatError(source, 0, `expected an ed25519 key, got ${key.asymmetricKeyType ?? 'an unknown key type'}`);
  }
  return privateFromKeyObject(key, comment);
}

function privateFromKeyObject(key: KeyObject, comment: string): OperatorPrivateKey {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  const raw = Buffer.from(jwk.x ?? '', 'base64url');
  const publicKey = publicKeyFromRaw(raw, comment);
  return { keyId: publicKey.keyId, key, publicKey };
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
