/** Operator key files: formats, key ids, and errors that name the file and the problem. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyPairPaths, readPrivateKeyFile, readPublicKeyFile, writeKeyPair } from '../../src/signing/key-files.js';
import {
  encodePrivateKeyPem,
  formatPublicKeyLine,
  generateOperatorKey,
  keyIdOf,
  KeyFormatError,
  parsePrivateKeyPem,
  parsePublicKeyFile,
  parsePublicKeyLine,
} from '../../src/signing/operator-key.js';

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pace-keys-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('key id is the first 16 hex digits of sha256 of the raw key (RFC 8032 test vector 1)', () => {
  const raw = Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex');
  assert.match(keyIdOf(raw), /^[0-9a-f]{16}$/);
  assert.equal(keyIdOf(raw), '21fe31dfa154a261');
  const line = parsePublicKeyLine(`pace-ed25519 ${raw.toString('base64')} alice@ops`, 'x.pub');
  assert.equal(line.keyId, keyIdOf(raw));
  assert.equal(line.comment, 'alice@ops');
});

test('public key line and private PEM round-trip; the public half matches', () => {
  const key = generateOperatorKey('ops team');
  const line = formatPublicKeyLine(key.publicKey);
  assert.match(line, /^pace-ed25519 [A-Za-z0-9+/]{43}= ops team$/);
  const pub = parsePublicKeyLine(line, 'k.pub');
  assert.equal(pub.keyId, key.keyId);
  assert.equal(pub.comment, 'ops team');
  const pem = encodePrivateKeyPem(key);
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(parsePrivateKeyPem(pem, 'k.key').keyId, key.keyId);
});

test('public key parse errors name the file, the line and the problem', () => {
  const cases: [string, string][] = [
    ['ssh-ed25519 AAAA', "k.pub:1: expected a line starting with 'pace-ed25519', got 'ssh-ed25519'"],
    ['pace-ed25519', "k.pub:1: missing the base64 key after 'pace-ed25519'"],
    ['pace-ed25519 not*base64', "k.pub:1: the key 'not*base64' is not valid base64"],
    ['pace-ed25519 AAAA', 'k.pub:1: an ed25519 public key is 32 bytes, this one decodes to 3'],
    ['-----BEGIN PRIVATE KEY-----', "k.pub:1: expected a line starting with 'pace-ed25519', got '-----BEGIN' (this looks like a PEM file: pass the .pub file, not the private key)"],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parsePublicKeyFile(text, 'k.pub'), (err: unknown) => err instanceof KeyFormatError && err.message === message, text);
  }
  assert.throws(() => parsePublicKeyFile('# only a comment\n\n', 'k.pub'), /k\.pub: no public key found/);
  const good = formatPublicKeyLine(generateOperatorKey().publicKey);
  assert.throws(() => parsePublicKeyFile(`# keys\n${good}\n\nbogus\n`, 'k.pub'), /^KeyFormatError: k\.pub:4: /);
  assert.equal(parsePublicKeyFile(`# keys\n${good}\n${good}\n`, 'k.pub').length, 2);
});

test('private key parse errors name the file and the problem', () => {
  const line = formatPublicKeyLine(generateOperatorKey().publicKey);
  assert.throws(() => parsePrivateKeyPem(line, 'k.key'), /k\.key: this is a public key line: sign with the private key file/);
  assert.throws(() => parsePrivateKeyPem('hello', 'k.key'), /k\.key: expected a PEM private key/);
  assert.throws(() => parsePrivateKeyPem('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'k.key'), /k\.key: cannot decode the PEM private key/);
  assert.throws(() => parsePrivateKeyPem('-----BEGIN ENCRYPTED PRIVATE KEY-----\n', 'k.key'), /encrypted keys are not supported/);
});

test('writeKeyPair: 0600 private key, refuses to overwrite without force', async () => {
  await withTempDir(async (dir) => {
    const key = generateOperatorKey('c');
    const paths = await writeKeyPair(join(dir, 'keys'), 'ops', key);
    assert.deepEqual(paths, keyPairPaths(join(dir, 'keys'), 'ops'));
    assert.equal(statSync(paths.privateKeyFile).mode & 0o777, 0o600);
    assert.equal(readFileSync(paths.publicKeyFile, 'utf8'), `${formatPublicKeyLine(key.publicKey)}\n`);
    assert.equal((await readPrivateKeyFile(paths.privateKeyFile)).keyId, key.keyId);
    assert.equal((await readPublicKeyFile(paths.publicKeyFile))[0]?.keyId, key.keyId);
    const other = generateOperatorKey();
    await assert.rejects(writeKeyPair(join(dir, 'keys'), 'ops', other), /ops\.key: already exists \(use --force to replace it\)/);
    assert.equal((await readPrivateKeyFile(paths.privateKeyFile)).keyId, key.keyId);
    await writeKeyPair(join(dir, 'keys'), 'ops', other, { force: true });
    assert.equal((await readPrivateKeyFile(paths.privateKeyFile)).keyId, other.keyId);
    await assert.rejects(writeKeyPair(dir, '../evil', key), /invalid key name/);
  });
});

test('reading key files: missing, directory, readable by others, wrong kind', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(readPublicKeyFile(join(dir, 'none.pub')), /none\.pub: cannot read key file: no such file/);
    await assert.rejects(readPrivateKeyFile(dir), /is a directory, not a key file/);
    const paths = await writeKeyPair(dir, 'k', generateOperatorKey());
    chmodSync(paths.privateKeyFile, 0o644);
    await assert.rejects(readPrivateKeyFile(paths.privateKeyFile), /k\.key: private key is readable by others \(mode 0644\): run chmod 600/);
    await assert.rejects(readPrivateKeyFile(paths.publicKeyFile), /k\.pub: this is a public key line/);
    writeFileSync(join(dir, 'big.pub'), 'x'.repeat(70_000));
    await assert.rejects(readPublicKeyFile(join(dir, 'big.pub')), /too large to be a key file/);
  });
});
