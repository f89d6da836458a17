/**
 * Test harness: whole PACE nodes (createNode) on one MemoryHub under one ManualClock, with the
 * log driver. The deterministic simulator does this at scale; this is the small version
 * unit tests use.
 */
import { createNode, type PaceNode } from '../../src/node/create-node.js';
import { LogDriver } from '../../src/drivers/log-driver.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { MemoryStorage } from '../../src/seams/memory-storage.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import type { OperatorPublicKey } from '../../src/signing/operator-key.js';
import type { Role } from '../../src/policy/types.js';
import { MemoryHub, type MemoryMesh } from './memory-mesh.js';
import { fastTestMembership } from './fast-membership.js';
import { RecordingLogger } from './recording-logger.js';
import { advanceSettling } from './state-cluster.js';

export interface FleetNode {
  id: string;
  node: PaceNode;
  mesh: MemoryMesh;
  driver: LogDriver;
  storage: MemoryStorage;
  logger: RecordingLogger;
}

export class NodeFleet {
  readonly clock = new ManualClock(1_700_000_000_000);
  readonly hub = new MemoryHub(this.clock, 1);
  readonly nodes = new Map<string, FleetNode>();
  private readonly random = new SeededRandom(7);
  private starts = 0;

  constructor(private readonly trustedKeys: readonly OperatorPublicKey[]) {}

  async add(id: string, memoryMB = 4096, storage = new MemoryStorage()): Promise<FleetNode> {
    const logger = new RecordingLogger();
    const driver = new LogDriver(logger);
    const mesh = this.hub.createMesh(id);
    const node = await createNode(
      { mesh, storage, clock: this.clock, random: this.random.fork(`${id}#${this.starts++}`), logger, drivers: { log: () => driver } },
      {
        cluster: 'site-a',
        member: { name: id, addresses: [], facts: { cpus: 2, memoryMB, diskGB: 32, arch: 'amd64' }, labels: {} },
        trustedKeys: this.trustedKeys,
        membership: fastTestMembership(),
        replication: { syncIntervalMs: 1_000 },
        roles: { tickMs: 500, retryMs: 1_000 },
      },
    );
    await node.start();
    const entry = { id, node, mesh, driver, storage, logger };
    this.nodes.set(id, entry);
    return entry;
  }

  /** Hard crash: the node stops answering and its links go down (its storage survives). */
  async crash(id: string): Promise<FleetNode> {
    const entry = this.get(id);
    this.hub.isolate(id, true);
    await entry.node.stop();
    this.nodes.delete(id);
    this.hub.isolate(id, false);
    return entry;
  }

  get(id: string): FleetNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  run(ms: number, step = 10): Promise<void> {
    return advanceSettling(this.clock, ms, step);
  }

  /** Runs until `done()` holds, up to `maxMs` of virtual time; returns the virtual time it took. */
  async runUntil(done: () => boolean, maxMs: number, step = 10): Promise<number> {
    const start = this.clock.now();
    while (!done()) {
      if (this.clock.now() - start > maxMs) throw new Error(`condition not reached within ${maxMs} ms of virtual time`);
      await this.run(step, step);
    }
    return this.clock.now() - start;
  }

  /** Each live node's own recorded role. */
  roles(): Record<string, Role | null> {
    const out: Record<string, Role | null> = {};
    for (const [id, n] of [...this.nodes].sort(([a], [b]) => (a < b ? -1 : 1))) out[id] = n.node.roles.snapshot().role;
    return out;
  }

  /** The manager set each live node's evaluation currently gives. */
  assignments(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [id, n] of this.nodes) out[id] = n.node.roles.snapshot().assignment?.managers.map((m) => this.nameOf(m)).join(',') ?? '';
    return out;
  }

  nameOf(peer: string): string {
    return peer;
  }

  async stopAll(): Promise<void> {
    for (const n of this.nodes.values()) await n.node.stop();
    this.nodes.clear();
  }
}
