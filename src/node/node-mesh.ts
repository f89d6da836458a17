/**
 * A node's place on the real network: its key, loaded from Storage (`node.key`) or created and
 * stored so the peer id survives restarts, and the libp2p mesh built on it. The daemon and the
 * tests that run nodes over real libp2p both start here; createNode then assembles the node on
 * the mesh (the simulator passes its own mesh instead).
 *
 * The key's seed is drawn from `random`: the daemon passes SystemRandom (the platform's crypto
 * RNG); tests pass a seeded stream so peer ids are reproducible.
 */
import type { Logger } from 'pino';
import { loadOrCreateNodeKey } from '../mesh/identity.js';
import { createLibp2pMesh, type Libp2pMesh, type Libp2pMeshInit } from '../mesh/libp2p-mesh.js';
import type { Clock } from '../seams/clock.js';
import type { Random } from '../seams/random.js';
import type { Storage } from '../seams/storage.js';

export interface NodeMeshComponents {
  /** Holds the node key (FileStorage on the data directory in the daemon). */
  storage: Storage;
  clock: Clock;
  random: Random;
  /** The mesh logs through it (peer up/down, dropped traffic). @default silent */
  logger?: Logger;
}

/** Loads or creates the node key, then creates (does not start) the libp2p mesh. */
export async function createNodeMesh(components: NodeMeshComponents, init: Libp2pMeshInit): Promise<Libp2pMesh> {
  const privateKey = await loadOrCreateNodeKey(components.storage, { random: components.random.fork('node/key') });
  return createLibp2pMesh(init, {
    clock: components.clock,
    random: components.random.fork('node/mesh'),
    privateKey,
    ...(components.logger === undefined ? {} : { logger: components.logger }),
  });
}
