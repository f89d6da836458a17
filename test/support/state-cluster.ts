/**
 * Test harness: several PACE state layers on one MemoryHub, driven by one ManualClock.
 */
import { ClusterState, type ClusterStateInit } from '../../src/state/cluster-state.js';
import type { Member } from '../../src/state/schema.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { MemoryHub, type MemoryMesh } from './memory-mesh.js';
import { MemoryStorage } from '../../src/seams/memory-storage.js';
import { RecordingLogger } from './recording-logger.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';

export interface TestNode {
  id: string;
  mesh: MemoryMesh;
  storage: MemoryStorage;
  logger: RecordingLogger;
  state: ClusterState;
}

/** Lets pending promise continuations run (no timers involved). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Advances `clock` by `ms` in `step` increments, letting async work run between steps. */
export async function advanceSettling(clock: ManualClock, ms: number, step: number): Promise<void> {
  await settle();
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await settle();
  }
}

export class TestCluster {
  readonly clock = new ManualClock();
  readonly hub = new MemoryHub(this.clock, 1);
  readonly nodes = new Map<string, TestNode>();
  private readonly random = new SeededRandom(42);

  constructor(readonly init: Partial<ClusterStateInit> = {}) {}

  /** Opens and starts a node (optionally on existing storage, as after a restart). */
  async add(id: string, storage = new MemoryStorage()): Promise<TestNode> {
    const mesh = this.hub.createMesh(id);
    const logger = new RecordingLogger();
    const state = await ClusterState.open(
      { mesh, storage, clock: this.clock, random: this.random.fork(`${id}/${this.nodes.size}/${this.clock.now()}`), logger },
      { cluster: 'site-a', syncIntervalMs: 1_000, ...this.init },
    );
    await mesh.start();
    state.start();
    const node = { id, mesh, storage, logger, state };
    this.nodes.set(id, node);
    return node;
  }

  /** Stops a node (flushing its document) and removes it from the hub. */
  async remove(id: string): Promise<TestNode> {
    const node = this.get(id);
    await node.state.stop();
    await node.mesh.stop();
    this.nodes.delete(id);
    return node;
  }

  get(id: string): TestNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Advances virtual time by `ms` in `step` increments, letting async work run between steps. */
  run(ms: number, step = 5): Promise<void> {
    return advanceSettling(this.clock, ms, step);
  }

  /** Sorted heads per node id. */
  heads(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [id, n] of [...this.nodes].sort(([a], [b]) => a.localeCompare(b))) out[id] = n.state.doc.heads().join(',');
    return out;
  }

  allSameHeads(): boolean {
    return new Set(Object.values(this.heads())).size === 1;
  }

  async stopAll(): Promise<void> {
    for (const id of [...this.nodes.keys()]) await this.remove(id);
  }
}

export function member(name: string, at = 1_700_000_000_000): Omit<Member, 'id'> {
  return {
    name,
    addresses: [`/dns4/${name}.local/tcp/4001`],
    facts: { cpus: 4, memoryMB: 4096, diskGB: 32, arch: 'arm64' },
    labels: { site: 'a' },
    joinedAt: at,
    leftAt: null,
    incarnation: 0,
  };
}
