/**
 * Five replicated nodes in one process over real libp2p (`@libp2p/memory` transport, Noise,
 * Yamux, gossipsub, the sync protocol): each writes its member record; all converge.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Libp2pNode } from '../support/libp2p-node.js';
import { memoryNodeSpecs } from '../support/memory-fleet.js';
import { headsReport, memberIds, sameHeads, startMemoryNode, stopAll } from '../support/replicated-fleet.js';
import { waitUntil } from '../support/wait.js';

const nodes: Libp2pNode[] = [];
after(() => stopAll(nodes));

void describe('replication over libp2p (memory transport, one process)', () => {
  void it('5 nodes each write their member record and reach identical heads and 5 members', async () => {
    const specs = await memoryNodeSpecs(5, 3001);
    nodes.push(...(await Promise.all(specs.map((spec, i) => startMemoryNode({ spec, peers: specs, name: `n${i}` })))));
    const ids = nodes.map((n) => n.self).sort();
    for (const n of nodes) assert.equal(n.source, 'genesis');
    await waitUntil(() => nodes.every((n) => memberIds(n).join() === ids.join()) && sameHeads(nodes), 'all 5 nodes hold 5 members and the same heads');
    for (const n of nodes) {
      const own = n.doc.member(n.self);
      assert.equal(own?.incarnation, 0);
      assert.equal(own?.leftAt, null);
    }
    // The active convergence check (the role gate) agrees once every node is connected to all others.
    await waitUntil(() => nodes.every((n) => n.mesh.peers().length === 4), 'full mesh', 60_000);
    for (const n of nodes) {
      const report = await n.replicator.checkConvergence();
      assert.equal(report.converged, true, `${n.self}: ${JSON.stringify(report)}\n${headsReport(nodes)}`);
      assert.equal(report.peers.length, 4);
    }
    // Gossip carried the records: every node published its own change.
    for (const n of nodes) assert.ok(n.replicator.stats().published >= 1);
  });
});
