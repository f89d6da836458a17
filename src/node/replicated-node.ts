/**
 * A replicated node: the libp2p mesh and the cluster document assembled for one PACE node.
 * This is the composition the daemon grows from (membership, policy and roles come on top).
 *
 * `startReplicatedNode` does, in order:
 *  1. loads the node key from `storage` (`node.key`), or creates and stores one, so the peer id
 *     survives restarts (src/mesh/identity.ts);
 *  2. creates the libp2p mesh from `mesh` (cluster name filled in);
 *  3. opens the {@link ClusterState} in the same Storage (`cluster.automerge`: loaded, created
 *     at genesis, or set aside when damaged and re-synced from peers);
 *  4. starts replication, then the mesh (so the sync handler and topic are registered before
 *     the first peer connects);
 *  5. writes this node's own member record (see {@link ownMemberRecord}).
 *
 * Contracts:
 *  - Every collaborator is injected; nothing here reads ambient time or randomness.
 *  - `random` must not replay a previous run's stream (a restart must draw a new Automerge actor
 *    id; docs/STATE.md "Actor ids"): the daemon passes SystemRandom, tests a new seed per start.
 *  - If any step fails, whatever was started is stopped before the error propagates.
 *  - `stop()` stops replication (flushing the document to Storage), then the mesh. Safe to call
 *    twice. It does not mark the member as left: a graceful leave is the daemon's decision.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import { createLibp2pMesh } from '../mesh/libp2p-mesh.js';
import type { Libp2pMesh, Libp2pMeshInit } from '../mesh/libp2p-mesh.js';
import { loadOrCreateNodeKey } from '../mesh/identity.js';
import type { Mesh, PeerId } from '../mesh/mesh.js';
import type { Clock } from '../seams/clock.js';
import type { Random } from '../seams/random.js';
import type { Storage } from '../seams/storage.js';
import type { ClusterDoc } from '../state/cluster-doc.js';
import { ClusterState } from '../state/cluster-state.js';
import type { ClusterStateInit } from '../state/cluster-state.js';
import type { DocSource } from '../state/persistence.js';
import type { Replicator } from '../state/replicator.js';
import { ownMemberRecord } from './own-member.js';
import type { MemberIdentity } from './own-member.js';

export type { MemberIdentity } from './own-member.js';

export interface ReplicatedNodeOptions {
  /** Holds `node.key` and `cluster.automerge` (FileStorage on a data directory in the daemon). */
  storage: Storage;
  /** Cluster name (1–63 of [a-z0-9-]); decides the genesis, topic, protocol and mDNS tag. */
  cluster: string;
  /** Mesh settings over the LAN profile (or over `mesh.base`); `cluster` is filled in. @default {} */
  mesh?: Omit<Libp2pMeshInit, 'cluster'>;
  /** Replication and persistence tuning (sync interval, save debounce). @default {} */
  state?: Omit<ClusterStateInit, 'cluster'>;
  clock: Clock;
  random: Random;
  /** Parent logger; the mesh and the state layer log through children. @default silent */
  logger?: Logger;
  /** What this node says about itself in its member record. */
  member: MemberIdentity;
  /**
   * Wraps the libp2p mesh before the state layer sees it (fault injection in tests, tracing).
   * The wrapper must delegate to the mesh it is given. @default identity
   */
  wrapMesh?: (mesh: Libp2pMesh) => Mesh;
}

/** A running node. */
export interface ReplicatedNode {
  /** This node's peer id: its member id and the key of its records. */
  readonly self: PeerId;
  /** The cluster document (read it; write only through its typed writers). */
  readonly doc: ClusterDoc;
  readonly replicator: Replicator;
  /** The libp2p mesh (unwrapped): peers, addresses, stats. */
  readonly mesh: Libp2pMesh;
  /** How the document was obtained at start. */
  readonly source: DocSource;
  /** Stops replication (flushing the document), then the mesh. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts a node as described in the module comment. */
export async function startReplicatedNode(options: ReplicatedNodeOptions): Promise<ReplicatedNode> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const privateKey = await loadOrCreateNodeKey(options.storage, { random: options.random.fork('node/key') });
  const mesh = createLibp2pMesh(
    { ...options.mesh, cluster: options.cluster },
    { clock: options.clock, random: options.random.fork('node/mesh'), privateKey, logger },
  );
  const seen = options.wrapMesh?.(mesh) ?? mesh;
  const state = await ClusterState.open(
    { mesh: seen, storage: options.storage, clock: options.clock, random: options.random.fork('node/state'), logger: logger.child({ component: 'state' }) },
    { ...options.state, cluster: options.cluster },
  );
  try {
    state.start();
    await mesh.start();
    state.doc.writeOwnMember(ownMemberRecord(state.doc.member(mesh.self), options.member, options.clock.now()));
  } catch (err) {
    await state.stop().catch(() => {});
    await mesh.stop().catch(() => {});
    throw err;
  }
  logger.info({ peer: mesh.self, cluster: options.cluster, source: state.source, addresses: mesh.addresses() }, 'replicated node started');

  let stopping: Promise<void> | undefined;
  return {
    self: mesh.self,
    doc: state.doc,
    replicator: state.replicator,
    mesh,
    source: state.source,
    stop: () => {
      stopping ??= (async () => {
        await state.stop();
        await mesh.stop();
      })();
      return stopping;
    },
  };
}
