/**
 * Whole nodes over real libp2p (`startLibp2pNode`) on the in-process `@libp2p/memory` transport:
 * each node listens on its spec's `/memory/...` address and bootstraps from the peers given.
 * The spec's key is stored as `node.key` before start (unless the storage already holds one),
 * so peer ids are known before any node starts, and the node's own key loading is exercised.
 */
import { privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { Logger } from 'pino';
import { NODE_KEY_NAME } from '../../src/mesh/identity.js';
import type { Libp2pMesh, Libp2pMeshInit } from '../../src/mesh/libp2p-mesh.js';
import { LOCAL_MESH_CONFIG } from '../../src/mesh/mesh-config.js';
import type { Mesh } from '../../src/mesh/mesh.js';
import { MemoryStorage } from '../../src/seams/memory-storage.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import type { Storage } from '../../src/seams/storage.js';
import { SystemClock } from '../../src/seams/system-clock.js';
import type { ClusterStateInit } from '../../src/state/cluster-state.js';
import { startLibp2pNode, type Libp2pNode } from './libp2p-node.js';
import { bootstrapOf } from './memory-fleet.js';
import type { MemoryNodeSpec } from './memory-fleet.js';

export const TEST_CLUSTER = 'site-r';

/** Every start draws a new Random stream, as a restarted daemon would (new actor id). */
let starts = 0;

export interface MemoryNodeOptions {
  spec: MemoryNodeSpec;
  /** Nodes to bootstrap from (the spec itself is skipped). */
  peers: MemoryNodeSpec[];
  name: string;
  storage?: Storage;
  logger?: Logger;
  wrapMesh?: (mesh: Libp2pMesh) => Mesh;
  mesh?: Omit<Libp2pMeshInit, 'cluster'>;
  state?: Omit<ClusterStateInit, 'cluster'>;
}

/** Starts one node over the memory transport (sync every 1 s unless overridden). */
export async function startMemoryNode(options: MemoryNodeOptions): Promise<Libp2pNode> {
  const storage = options.storage ?? new MemoryStorage();
  if ((await storage.read(NODE_KEY_NAME)) === undefined) await storage.write(NODE_KEY_NAME, privateKeyToProtobuf(options.spec.key));
  return startLibp2pNode({
    storage,
    cluster: TEST_CLUSTER,
    mesh: {
      base: LOCAL_MESH_CONFIG,
      transport: 'memory',
      listen: [options.spec.address],
      bootstrap: options.peers.filter((p) => p.address !== options.spec.address).map(bootstrapOf),
      ...options.mesh,
    },
    replication: { syncIntervalMs: 1_000, ...options.state },
    clock: new SystemClock(),
    random: new SeededRandom(`replicated-${process.pid}-${starts++}`),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.wrapMesh === undefined ? {} : { wrapMesh: options.wrapMesh }),
    member: testIdentity(options.name),
  });
}

/** A member identity for tests. */
export function testIdentity(name: string): { name: string; addresses: string[]; facts: { cpus: number; memoryMB: number; diskGB: number; arch: string }; labels: Record<string, string> } {
  return { name, addresses: [], facts: { cpus: 2, memoryMB: 2048, diskGB: 16, arch: 'amd64' }, labels: { site: 'r' } };
}

/**
 * Makes one change that only `node` may make: its own member record with label `key` = `value`.
 * (Concurrent first writes to a new nested map, such as a new driver's records, hide each other,
 * so tests that write on several nodes at once write their own records.)
 */
export function relabel(node: Libp2pNode, key: string, value: string): void {
  const own = node.doc.member(node.self);
  if (own === undefined) throw new Error(`${node.self} has no member record`);
  const { id: _id, ...record } = own;
  node.doc.writeOwnMember({ ...record, labels: { ...record.labels, [key]: value } });
}

/** Value of label `key` on member `id` as `node` sees it. */
export function labelOf(node: Libp2pNode, id: string, key: string): string | undefined {
  return node.doc.member(id)?.labels[key];
}

/** Member ids in a node's document, sorted. */
export function memberIds(node: Libp2pNode): string[] {
  return node.doc.members().map((m) => m.id);
}

/** True when every node holds the same heads. */
export function sameHeads(nodes: readonly Libp2pNode[]): boolean {
  return new Set(nodes.map((n) => n.doc.heads().join(','))).size === 1;
}

/** Heads per node, for failure messages. */
export function headsReport(nodes: readonly Libp2pNode[]): string {
  return nodes.map((n) => `${n.self.slice(-6)}: [${n.doc.heads().map((h) => h.slice(0, 8)).join(',')}] members=${n.doc.members().length}`).join('\n');
}

/** Stops every node, ignoring ones already stopped. */
export async function stopAll(nodes: readonly Libp2pNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop()));
}
