/**
 * A deterministic operator key for simulations: the ed25519 private key whose 32-byte seed is
 * derived from the simulation seed, so a run signs its policies with the same key every time
 * (ed25519 signatures are themselves deterministic). `generateOperatorKey` would draw real
 * randomness inside node:crypto, and the trace hash would then differ between runs.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { publicKeyFromRaw, type OperatorPrivateKey } from '../../src/signing/operator-key.js';
import type { Seed } from '../../src/seams/seeded-random.js';

/** PKCS#8 DER header of an ed25519 private key; the 32-byte seed follows (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The simulation operator key for `seed` (comment `sim`). Never use it outside a simulation. */
export function simOperatorKey(seed: Seed, label = 'operator'): OperatorPrivateKey {
  const keySeed = createHash('sha256').update(`pace-sim-operator-key\u0000${String(seed)}\u0000${label}`).digest();
  const key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, keySeed]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  const publicKey = publicKeyFromRaw(Buffer.from(jwk.x ?? '', 'base64url'), 'sim');
  return { keyId: publicKey.keyId, key, publicKey };
}
