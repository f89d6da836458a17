/**
 * Pre-shared network key (libp2p pnet) with replicated nodes over the memory transport: nodes
 * with the same key converge; a node with a wrong key and a node with no key never connect,
 * and no state crosses in either direction.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { generateSwarmKey } from '../../src/mesh/swarm-key.js';
import type { Libp2pNode } from '../support/libp2p-node.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { syncProtocol } from '../../src/state/replicator.js';
import { memoryNodeSpecs } from '../support/memory-fleet.js';
import { memberIds, relabel, sameHeads, startMemoryNode, stopAll, TEST_CLUSTER } from '../support/replicated-fleet.js';
import { waitUntil } from '../support/wait.js';

const nodes: Libp2pNode[] = [];
after(() => stopAll(nodes));

void describe('replication with a pre-shared network key (memory transport)', () => {
  void it('keyed nodes converge; wrong-key and keyless nodes get no connection and no state', async () => {
    const key = generateSwarmKey(new SeededRandom(3601));
    const wrong = generateSwarmKey(new SeededRandom(3602));
    const specs = await memoryNodeSpecs(4, 3603);
    const [sa, sb, sc, sd] = [specs[0], specs[1], specs[2], specs[3]];
    assert.ok(sa !== undefined && sb !== undefined && sc !== undefined && sd !== undefined);
    // Everyone bootstraps from everyone: the outsiders keep trying (redial every 2 s).
    const [a, b, c, d] = await Promise.all([
      startMemoryNode({ spec: sa, peers: specs, name: 'a', mesh: { swarmKey: key } }),
      startMemoryNode({ spec: sb, peers: specs, name: 'b', mesh: { swarmKey: key } }),
      startMemoryNode({ spec: sc, peers: specs, name: 'wrong-key', mesh: { swarmKey: wrong } }),
      startMemoryNode({ spec: sd, peers: specs, name: 'no-key' }),
    ]);
    assert.ok(a !== undefined && b !== undefined && c !== undefined && d !== undefined);
    nodes.push(a, b, c, d);
    relabel(a, 'secret', 'yes');
    await waitUntil(() => sameHeads([a, b]) && memberIds(a).length === 2 && b.doc.member(a.self)?.labels['secret'] === 'yes', 'keyed nodes converge');

    // An explicit attempt from each outsider fails at the connection, not at the protocol.
    for (const outsider of [c, d]) {
      for (const target of [a, b]) {
        await assert.rejects(outsider.mesh.request(target.self, syncProtocol(TEST_CLUSTER), new Uint8Array(0), { timeoutMs: 10_000 }), { name: 'MeshRequestError' });
      }
    }
    assert.deepEqual(a.mesh.peers(), [b.self]);
    assert.deepEqual(b.mesh.peers(), [a.self]);
    for (const outsider of [c, d]) {
      assert.deepEqual(outsider.mesh.peers(), [], 'no connection');
      assert.deepEqual(memberIds(outsider), [outsider.self], 'its document never gains the keyed members');
      assert.equal(outsider.replicator.stats().syncSessions, 0);
      assert.equal(outsider.replicator.stats().gossipReceived, 0);
    }
    for (const keyed of [a, b]) {
      assert.deepEqual(memberIds(keyed), [a.self, b.self].sort(), 'no outsider member crossed in');
      assert.deepEqual(keyed.replicator.convergence().peers.map((p) => p.peer), [keyed === a ? b.self : a.self]);
    }
  });
});
