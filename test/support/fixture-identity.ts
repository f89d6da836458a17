/** Deterministic node keys for fixture processes: the test computes peer ids before spawning. */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { SeededRandom } from '../../src/seams/seeded-random.js';

export function fixtureKey(seed: number): Promise<PrivateKey> {
  return generateKeyPairFromSeed('Ed25519', new SeededRandom(seed).bytes(32));
}

export async function fixturePeerId(seed: number): Promise<string> {
  return peerIdFromPrivateKey(await fixtureKey(seed)).toString();
}
