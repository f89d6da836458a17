/**
 * ClusterState: the state layer assembled for one node — the document (loaded from Storage or
 * created at genesis), its persistence and its replication over the Mesh.
 *
 * Lifecycle: `await ClusterState.open(...)`, then `start()` (the Mesh may be started before or
 * after), then `await stop()` which stops replication and flushes the document to Storage.
 *
 * `random` must not replay a previous run's stream (a restarted node must draw a new actor id;
 * see docs/STATE.md, "Actor ids"): the daemon passes SystemRandom, the simulator a stream forked
 * per node *and* per restart.
 */
import type { Mesh } from '../mesh/mesh.js';
import type { Clock } from '../seams/clock.js';
import type { Random } from '../seams/random.js';
import type { Storage } from '../seams/storage.js';
import type { ClusterDoc } from './cluster-doc.js';
import type { StateLogger } from './logger.js';
import type { DocHandles } from './doc-handle.js';
import { DocPersistence, type DocSource } from './persistence.js';
import { Replicator, type ReplicatorInit } from './replicator.js';

export interface ClusterStateComponents {
  mesh: Mesh;
  storage: Storage;
  clock: Clock;
  random: Random;
  logger: StateLogger;
  /** Where the document's handle lives (the simulator shares them); see ClusterDocInit. */
  docHandles?: DocHandles;
}

export interface ClusterStateInit extends ReplicatorInit {
  /** Cluster name (1-63 of [a-z0-9-]). */
  cluster: string;
  /** @default 500 */
  saveDebounceMs?: number;
}

export class ClusterState {
  private constructor(
    readonly doc: ClusterDoc,
    readonly replicator: Replicator,
    private readonly persistence: DocPersistence,
    /** How the document was obtained at open. */
    readonly source: DocSource,
  ) {}

  /** Loads (or creates) the document; does not touch the network yet. */
  static async open(components: ClusterStateComponents, init: ClusterStateInit): Promise<ClusterState> {
    const persistence = new DocPersistence(components, init.saveDebounceMs === undefined ? {} : { debounceMs: init.saveDebounceMs });
    const { doc, source } = await persistence.open({
      cluster: init.cluster,
      self: components.mesh.self,
      clock: components.clock,
      random: components.random.fork('state/actor'),
      logger: components.logger,
      ...(components.docHandles === undefined ? {} : { docHandles: components.docHandles }),
    });
    persistence.attach(doc);
    const replicator = new Replicator({ ...components, doc, random: components.random.fork('state/replicator') }, init);
    return new ClusterState(doc, replicator, persistence, source);
  }

  /** Starts replication. Safe to call twice. */
  start(): void {
    this.replicator.start();
  }

  /** Stops replication and writes the document. Safe to call twice. */
  async stop(): Promise<void> {
    await this.replicator.stop();
    await this.persistence.stop();
  }
}
