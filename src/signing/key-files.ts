/**
 * Reading and writing operator key files (formats in operator-key.ts).
 *
 * Errors are {@link KeyFormatError}s that name the file and the problem (unreadable, wrong
 * format, private key readable by others); writing refuses to replace existing files unless
 * asked, and creates the private key with mode 0600, atomically (temp, fsync, rename).
 */
import { access, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import {
  encodePrivateKeyPem,
  formatPublicKeyLine,
  KeyFormatError,
  parsePrivateKeyPem,
  parsePublicKeyFile,
  type OperatorPrivateKey,
  type OperatorPublicKey,
} from './operator-key.js';

/** Largest key file we read: keys are tiny, so anything bigger is the wrong file. */
const MAX_KEY_FILE_BYTES = 64 * 1024;
/** Mode of a private key file. */
export const PRIVATE_KEY_MODE = 0o600;
/** Mode of a public key file. */
export const PUBLIC_KEY_MODE = 0o644;
/** Key pair names: what goes before `.key` / `.pub`. */
export const KEY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Where `pace keygen` put a key pair. */
export interface KeyPairPaths {
  privateKeyFile: string;
  publicKeyFile: string;
}

/** The files a key pair named `name` occupies in `dir`. */
export function keyPairPaths(dir: string, name: string): KeyPairPaths {
  return { privateKeyFile: join(dir, `${name}.key`), publicKeyFile: join(dir, `${name}.pub`) };
}

/**
 * Writes `NAME.key` (mode 0600) and `NAME.pub` into `dir` (created with mode 0700 when
 * missing). Without `force`, rejects with a {@link KeyFormatError} when either file exists,
 * and writes nothing; the no-overwrite check is atomic (a concurrent keygen cannot be
 * clobbered).
 */
export async function writeKeyPair(dir: string, name: string, key: OperatorPrivateKey, options: { force?: boolean } = {}): Promise<KeyPairPaths> {
  if (!KEY_NAME_PATTERN.test(name)) {
    throw new KeyFormatError(name, 0, 'invalid key name: use letters, digits, \'.\', \'_\' and \'-\' (at most 64, not starting with \'.\')');
  }
  const paths = keyPairPaths(dir, name);
  const force = options.force === true;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!force) {
    for (const file of [paths.privateKeyFile, paths.publicKeyFile]) {
      if (await exists(file)) throw new KeyFormatError(file, 0, 'already exists (use --force to replace it)');
    }
  }
  try {
    await writeFileAtomic(paths.privateKeyFile, encodePrivateKeyPem(key), { mode: PRIVATE_KEY_MODE, overwrite: force });
    await writeFileAtomic(paths.publicKeyFile, `${formatPublicKeyLine(key.publicKey)}\n`, { mode: PUBLIC_KEY_MODE, overwrite: force });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeyFormatError(`${paths.privateKeyFile} or ${paths.publicKeyFile}`, 0, 'appeared while writing (use --force to replace it)');
    }
    throw err;
  }
  return paths;
}

/**
 * Reads a private key file. Rejects (with a {@link KeyFormatError}) when the file cannot be
 * read, is not a PKCS#8 ed25519 PEM key, or can be read by group or others (like ssh does).
 */
export async function readPrivateKeyFile(file: string): Promise<OperatorPrivateKey> {
  const text = await readKeyText(file);
  const key = parsePrivateKeyPem(text, file);
  const mode = (await stat(file)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new KeyFormatError(file, 0, `private key is readable by others (mode ${mode.toString(8).padStart(4, '0')}): run chmod 600 ${file}`);
  }
  return key;
}

/** Reads a public key file (one or more key lines). Rejects with a {@link KeyFormatError}. */
export async function readPublicKeyFile(file: string): Promise<OperatorPublicKey[]> {
  return parsePublicKeyFile(await readKeyText(file), file);
}

async function readKeyText(file: string): Promise<string> {
  let data: Buffer;
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new KeyFormatError(file, 0, 'is a directory, not a key file');
    if (info.size > MAX_KEY_FILE_BYTES) throw new KeyFormatError(file, 0, `is ${info.size} bytes: too large to be a key file`);
    data = await readFile(file);
  } catch (err) {
    if (err instanceof KeyFormatError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new KeyFormatError(file, 0, `cannot read key file: ${why}`);
  }
  return data.toString('utf8');
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
