/**
 * Nodes for benchmarks: whole nodes over real libp2p (`startLibp2pNode`, the daemon's assembly)
 * on the in-process memory transport,
 * MemoryStorage, silent logs, gossip heartbeat at the spec default (1 s) to spare the CPU when
 * a hundred nodes share two cores.
 */
import { generateKeyPairFromSeed, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { NODE_KEY_NAME } from '../../src/mesh/identity.js';
import type { Libp2pMesh } from '../../src/mesh/libp2p-mesh.js';
import { LOCAL_MESH_CONFIG } from '../../src/mesh/mesh-config.js';
import type { Mesh } from '../../src/mesh/mesh.js';
import { startLibp2pNode, type Libp2pNode } from '../../test/support/libp2p-node.js';
import { MemoryStorage } from '../../src/seams/memory-storage.js';
import type { Random } from '../../src/seams/random.js';
import { SystemClock } from '../../src/seams/system-clock.js';

export const BENCH_CLUSTER = 'bench';

export interface BenchSpec {
  key: PrivateKey;
  address: string;
  /** `address/p2p/<peer id>`, for bootstrap lists. */
  dialable: string;
}

let runs = 0;

/** `count` node keys and unique memory addresses. */
export async function benchSpecs(count: number, random: Random): Promise<BenchSpec[]> {
  const run = runs++;
  const specs: BenchSpec[] = [];
  for (let i = 0; i < count; i++) {
    const key = await generateKeyPairFromSeed('Ed25519', random.bytes(32));
    const address = `/memory/bench-${process.pid}-${run}-${i}`;
    specs.push({ key, address, dialable: `${address}/p2p/${peerIdFromPrivateKey(key).toString()}` });
  }
  return specs;
}

export async function startBenchNode(spec: BenchSpec, bootstrap: string[], random: Random, wrapMesh?: (mesh: Libp2pMesh) => Mesh): Promise<Libp2pNode> {
  const storage = new MemoryStorage();
  await storage.write(NODE_KEY_NAME, privateKeyToProtobuf(spec.key));
  return startLibp2pNode({
    storage,
    cluster: BENCH_CLUSTER,
    mesh: { base: LOCAL_MESH_CONFIG, transport: 'memory', listen: [spec.address], bootstrap, gossip: { heartbeatIntervalMs: 1_000 } },
    clock: new SystemClock(),
    random,
    member: { name: spec.address.split('/').pop() ?? 'bench', facts: { cpus: 2, memoryMB: 2048, diskGB: 16, arch: 'amd64' }, labels: {} },
    ...(wrapMesh === undefined ? {} : { wrapMesh }),
  });
}

/** Writes `node`'s own member record with label `key` = `value` (one Automerge change). */
export function relabel(node: Libp2pNode, key: string, value: string): void {
  const own = node.doc.member(node.self);
  if (own === undefined) throw new Error(`${node.self} has no member record`);
  const { id: _id, ...record } = own;
  node.doc.writeOwnMember({ ...record, labels: { ...record.labels, [key]: value } });
}

/** Resolves with the ms from `t0` until `node` holds `heads`, or undefined after `timeoutMs`. */
export function whenHolds(node: Libp2pNode, heads: string[], t0: number, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    if (node.doc.hasHeads(heads)) return resolve(performance.now() - t0);
    const timer = setTimeout(() => {
      off();
      resolve(undefined);
    }, timeoutMs);
    const off = node.replicator.on('doc:changed', () => {
      if (!node.doc.hasHeads(heads)) return;
      const elapsed = performance.now() - t0;
      clearTimeout(timer);
      off();
      resolve(elapsed);
    });
  });
}

/** Polls `condition` every 50 ms; false when `timeoutMs` passes first. */
export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return condition();
}
