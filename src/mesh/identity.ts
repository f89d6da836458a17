/**
 * Node identity: the ed25519 key whose public half is the node's libp2p peer id.
 *
 * The key is stored protobuf-marshalled (libp2p's `privateKeyToProtobuf`) under
 * {@link NODE_KEY_NAME} in the node's Storage, so a restarted node keeps its peer id.
 * A key file that exists but cannot be decoded is an error naming the file — never silently
 * replaced, because a new key means a new identity the rest of the cluster does not know.
 */
import { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import type { Random } from '../seams/random.js';
import type { Storage } from '../seams/storage.js';
import { NodeKeyError } from './errors.js';

/** Storage name of the node key. */
export const NODE_KEY_NAME = 'node.key';

/**
 * Returns the stored node key, or creates, stores and returns a new ed25519 key.
 * With `random`, the new key's 32-byte seed is drawn from it (createNodeMesh passes the node's
 * Random: SystemRandom, the platform's crypto RNG, in the daemon; a SeededRandom in tests, so
 * peer ids are reproducible); without it, libp2p generates the key from the crypto RNG.
 * @throws NodeKeyError when `node.key` exists but is not a valid ed25519 key.
 */
export async function loadOrCreateNodeKey(storage: Storage, options: { random?: Random; signal?: AbortSignal } = {}): Promise<PrivateKey> {
  options.signal?.throwIfAborted();
  const stored = await storage.read(NODE_KEY_NAME);
  if (stored !== undefined) return decodeNodeKey(stored);
  options.signal?.throwIfAborted();
  const key = options.random === undefined ? await generateKeyPair('Ed25519') : await generateKeyPairFromSeed('Ed25519', options.random.bytes(32));
  await storage.write(NODE_KEY_NAME, privateKeyToProtobuf(key));
  return key;
}

/** Decodes a stored node key. @throws NodeKeyError for anything but an ed25519 key. */
export function decodeNodeKey(bytes: Uint8Array): PrivateKey {
  let key: PrivateKey;
  try {
    key = privateKeyFromProtobuf(bytes);
  } catch (err) {
    throw new NodeKeyError(NODE_KEY_NAME, err instanceof Error ? err.message : String(err), { cause: err });
  }
  if (key.type !== 'Ed25519') throw new NodeKeyError(NODE_KEY_NAME, `expected an Ed25519 key, found ${key.type}`);
  return key;
}
