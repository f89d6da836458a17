/**
 * A whole PACE node over real libp2p, for tests and benchmarks: the node key and mesh from
 * createNodeMesh, the node from createNode (as the daemon assembles it: document, failure
 * detection, policy store, role loop) with the log driver and no trusted operator key, so no
 * policy is ever active and the node only replicates and probes. The fields name what the
 * replication tests read: the document, its replicator, the unwrapped libp2p mesh.
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import { LogDriver } from '../../src/drivers/log-driver.js';
import type { Libp2pMesh, Libp2pMeshInit } from '../../src/mesh/libp2p-mesh.js';
import type { Mesh, PeerId } from '../../src/mesh/mesh.js';
import { createNode, type NodeInit, type PaceNode } from '../../src/node/create-node.js';
import { createNodeMesh } from '../../src/node/node-mesh.js';
import type { MemberIdentity } from '../../src/node/own-member.js';
import type { Clock } from '../../src/seams/clock.js';
import type { Random } from '../../src/seams/random.js';
import type { Storage } from '../../src/seams/storage.js';
import type { ClusterDoc } from '../../src/state/cluster-doc.js';
import type { DocSource } from '../../src/state/persistence.js';
import type { Replicator } from '../../src/state/replicator.js';

export interface Libp2pNodeOptions {
  /** Holds `node.key` and `cluster.automerge`. */
  storage: Storage;
  cluster: string;
  mesh: Omit<Libp2pMeshInit, 'cluster'>;
  replication?: NodeInit['replication'];
  clock: Clock;
  /** Must not replay an earlier start's stream (a restart draws a new actor id). */
  random: Random;
  /** @default silent */
  logger?: Logger;
  member: MemberIdentity;
  /** Wraps the libp2p mesh before the node sees it (fault injection); must delegate to it. */
  wrapMesh?: (mesh: Libp2pMesh) => Mesh;
}

export interface Libp2pNode {
  readonly self: PeerId;
  readonly node: PaceNode;
  readonly doc: ClusterDoc;
  readonly replicator: Replicator;
  /** The libp2p mesh (unwrapped): peers, addresses, stats. */
  readonly mesh: Libp2pMesh;
  /** How the document was obtained at start. */
  readonly source: DocSource;
  /** Stops the node (flushing the document) and its mesh. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startLibp2pNode(options: Libp2pNodeOptions): Promise<Libp2pNode> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const mesh = await createNodeMesh({ storage: options.storage, clock: options.clock, random: options.random, logger }, { ...options.mesh, cluster: options.cluster });
  const driver = new LogDriver(logger);
  const node = await createNode(
    { mesh: options.wrapMesh?.(mesh) ?? mesh, storage: options.storage, clock: options.clock, random: options.random.fork('node'), logger, drivers: { log: () => driver } },
    { cluster: options.cluster, member: { ...options.member, addresses: [] }, advertise: () => mesh.addresses(), trustedKeys: [], ...(options.replication === undefined ? {} : { replication: options.replication }) },
  );
  try {
    await node.start();
  } catch (err) {
    await node.stop().catch(() => {});
    throw err;
  }
  return { self: node.self, node, doc: node.state.doc, replicator: node.state.replicator, mesh, source: node.state.source, stop: () => node.stop() };
}
