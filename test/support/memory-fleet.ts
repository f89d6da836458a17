/**
 * Builds fleets of libp2p meshes over the in-process memory transport: each node listens on
 * `/memory/<unique>` and bootstraps from every other node. Keys come from a seeded Random.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { createLibp2pMesh } from '../../src/mesh/libp2p-mesh.js';
import type { Libp2pMesh, Libp2pMeshInit } from '../../src/mesh/libp2p-mesh.js';
import { LOCAL_MESH_CONFIG } from '../../src/mesh/mesh-config.js';
import type { MeshFleet, MeshFleetOptions } from '../mesh/mesh-compliance.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { SystemClock } from '../../src/seams/system-clock.js';
import { waitUntil } from './wait.js';

let fleetCounter = 0;

export interface MemoryNodeSpec {
  key: PrivateKey;
  address: string;
}

export async function memoryNodeSpecs(size: number, seed: number): Promise<MemoryNodeSpec[]> {
  const random = new SeededRandom(seed);
  const fleet = `fleet-${process.pid}-${fleetCounter++}`;
  const specs: MemoryNodeSpec[] = [];
  for (let i = 0; i < size; i++) {
    const key = await generateKeyPairFromSeed('Ed25519', random.bytes(32));
    specs.push({ key, address: `/memory/${fleet}-${i}` });
  }
  return specs;
}

export function bootstrapOf(spec: MemoryNodeSpec): string {
  return `${spec.address}/p2p/${peerIdFromPrivateKey(spec.key).toString()}`;
}

/** One memory-transport mesh from `spec`, bootstrapping from `peers`. */
export function memoryMesh(spec: MemoryNodeSpec, peers: MemoryNodeSpec[], overrides: Partial<Libp2pMeshInit> = {}): Libp2pMesh {
  return createLibp2pMesh(
    {
      cluster: 'test',
      base: LOCAL_MESH_CONFIG,
      transport: 'memory',
      listen: [spec.address],
      bootstrap: peers.filter((p) => p !== spec).map(bootstrapOf),
      ...overrides,
    },
    { clock: new SystemClock(), random: new SeededRandom(7), privateKey: spec.key },
  );
}

export async function makeMemoryFleet(size: number, options: MeshFleetOptions, overrides: Partial<Libp2pMeshInit> = {}): Promise<MeshFleet & { meshes: Libp2pMesh[] }> {
  const specs = await memoryNodeSpecs(size, 1000 + fleetCounter);
  const meshes = specs.map((spec) => memoryMesh(spec, specs, { maxRequestBytes: options.maxRequestBytes, ...overrides }));
  return {
    meshes,
    waitFor: (condition, description) => waitUntil(condition, description),
    close: async () => {
      await Promise.all(meshes.map((m) => m.stop()));
    },
  };
}
