/**
 * Recovery over real libp2p (memory transport, one process): lost gossip is repaired by
 * periodic sync, a late joiner catches up, and a node restarted from its data directory
 * (FileStorage) keeps its peer id and its document, and its new writes replicate.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import type { Libp2pNode } from '../support/libp2p-node.js';
import { FileStorage } from '../../src/seams/file-storage.js';
import { changesTopic } from '../../src/state/replicator.js';
import { GossipDroppingMesh } from '../support/gossip-filter.js';
import { memoryNodeSpecs } from '../support/memory-fleet.js';
import { headsReport, labelOf, memberIds, relabel, sameHeads, startMemoryNode, stopAll, TEST_CLUSTER } from '../support/replicated-fleet.js';
import { waitUntil } from '../support/wait.js';

let nodes: Libp2pNode[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const converged = (group: Libp2pNode[], ids: string[]): boolean => sameHeads(group) && group.every((n) => memberIds(n).join() === [...ids].sort().join());

void describe('replication recovery over libp2p (memory transport)', () => {
  void it('a node whose gossip is dropped catches up through periodic sync', async () => {
    const specs = await memoryNodeSpecs(4, 3101);
    const filter: { mesh?: GossipDroppingMesh } = {};
    const [deaf, ...rest] = specs;
    assert.ok(deaf !== undefined);
    // Sync on connect would also heal it; periodic sync every ~1 s is what this test relies on,
    // so the records are written only after every node has connected and synced once.
    const deafNode = await startMemoryNode({
      spec: deaf,
      peers: specs,
      name: 'deaf',
      wrapMesh: (mesh) => (filter.mesh = new GossipDroppingMesh(mesh, new Set([changesTopic(TEST_CLUSTER)]))),
    });
    nodes.push(deafNode);
    nodes.push(...(await Promise.all(rest.map((spec, i) => startMemoryNode({ spec, peers: specs, name: `n${i}` })))));
    const ids = nodes.map((n) => n.self);
    await waitUntil(() => converged(nodes, ids), 'initial convergence');
    await waitUntil(() => nodes.every((n) => n.mesh.peers().length === 3), 'full mesh', 60_000);

    const before = deafNode.replicator.stats();
    for (const n of nodes.slice(1)) relabel(n, 'round', '1');
    // Gossip is best effort (it may not even reach the deaf node's filter while the gossipsub
    // mesh forms), so the test does not wait for drops: what matters is that nothing arrives by
    // gossip and the node still catches up.
    await waitUntil(() => sameHeads(nodes), `the deaf node catches up\n${headsReport(nodes)}`, 60_000);
    for (const id of ids.slice(1)) assert.equal(labelOf(deafNode, id, 'round'), '1');
    const stats = deafNode.replicator.stats();
    assert.equal(stats.gossipReceived, 0, 'nothing reached the replicator by gossip');
    // Either side may start the session that carries the changes: the deaf node's own periodic
    // sync, or a peer's periodic sync served by the deaf node.
    const syncTraffic = (s: typeof stats): number => s.syncSessions + s.syncRequestsServed;
    assert.ok(syncTraffic(stats) > syncTraffic(before), 'sync sessions carried the changes');
  });

  void it('a late joiner catches up with the whole document', async () => {
    const specs = await memoryNodeSpecs(4, 3201);
    const early = specs.slice(0, 3);
    nodes.push(...(await Promise.all(early.map((spec, i) => startMemoryNode({ spec, peers: early, name: `n${i}` })))));
    for (const n of nodes) relabel(n, 'early', 'yes');
    await waitUntil(() => converged(nodes, nodes.map((n) => n.self)), `the first three converge\n${headsReport(nodes)}\n${JSON.stringify(nodes.map((n) => [n.mesh.peers().length, n.replicator.stats().syncSessions, n.replicator.stats().syncSessionsFailed]))}`);
    const late = specs[3];
    assert.ok(late !== undefined);
    const joiner = await startMemoryNode({ spec: late, peers: specs, name: 'late' });
    nodes.push(joiner);
    await waitUntil(() => converged(nodes, nodes.map((n) => n.self)), `the late joiner converges\n${headsReport(nodes)}`);
    assert.equal(memberIds(joiner).length, 4);
    for (const n of nodes.slice(0, 3)) assert.equal(labelOf(joiner, n.self, 'early'), 'yes');
    assert.ok(joiner.replicator.stats().syncSessions >= 1);
  });

  void it('a node restarted from its data directory keeps its peer id and document, and its new writes replicate', async () => {
    const specs = await memoryNodeSpecs(3, 3301);
    const dir = await mkdtemp(join(tmpdir(), 'pace-restart-'));
    dirs.push(dir);
    const [first, ...rest] = specs;
    assert.ok(first !== undefined);
    const original = await startMemoryNode({ spec: first, peers: specs, name: 'durable', storage: new FileStorage(dir) });
    const others = await Promise.all(rest.map((spec, i) => startMemoryNode({ spec, peers: specs, name: `n${i}` })));
    nodes.push(...others);
    const ids = [original.self, ...others.map((n) => n.self)];
    await waitUntil(() => converged([original, ...others], ids), 'initial convergence');
    const headsAtStop = original.doc.heads();
    await original.stop();

    const restarted = await startMemoryNode({ spec: first, peers: specs, name: 'durable', storage: new FileStorage(dir) });
    nodes.push(restarted);
    assert.equal(restarted.self, original.self, 'same peer id');
    assert.equal(restarted.source, 'saved');
    assert.ok(restarted.doc.hasHeads(headsAtStop), 'the saved document was loaded');
    assert.deepEqual(memberIds(restarted), [...ids].sort(), 'all members known before any sync');
    assert.equal(restarted.doc.member(restarted.self)?.incarnation, 1, 'a restart raises the incarnation');

    relabel(restarted, 'after-restart', 'yes');
    await waitUntil(() => nodes.every((n) => labelOf(n, restarted.self, 'after-restart') === 'yes') && sameHeads(nodes), `the restarted node's writes replicate\n${headsReport(nodes)}`);
    for (const n of others) assert.equal(n.doc.member(restarted.self)?.incarnation, 1);
  });
});
