/**
 * Hostile traffic on the real channels of a replicated node over libp2p (memory transport):
 * garbage and oversized envelopes published on `changesTopic(cluster)` by a libp2p peer that
 * runs no replicator, and garbage and oversized frames written on the sync protocol by a bare
 * libp2p node (test/support/raw-peer.ts). Each is dropped and counted by reason in
 * `replicator.stats()`, the document is unchanged, and the node keeps replicating.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import * as Automerge from '@automerge/automerge';
import { after, before, describe, it } from 'node:test';
import type { Libp2p } from 'libp2p';
import { encodeFrame } from '../../src/mesh/framing.js';
import type { Libp2pMesh } from '../../src/mesh/libp2p-mesh.js';
import type { Libp2pNode } from '../support/libp2p-node.js';
import type { RejectReason } from '../../src/state/errors.js';
import { changesTopic, syncProtocol } from '../../src/state/replicator.js';
import { encodeWire, MAX_GOSSIP_BYTES, MAX_SYNC_BYTES } from '../../src/state/wire.js';
import { bootstrapOf, memoryMesh, memoryNodeSpecs } from '../support/memory-fleet.js';
import type { MemoryNodeSpec } from '../support/memory-fleet.js';
import { envelopeOf, sendRaw, startRawPeer } from '../support/raw-peer.js';
import { headsReport, labelOf, relabel, sameHeads, startMemoryNode, stopAll, TEST_CLUSTER } from '../support/replicated-fleet.js';
import { waitUntil } from '../support/wait.js';

const TOPIC = changesTopic(TEST_CLUSTER);
const PROTOCOL = syncProtocol(TEST_CLUSTER);
const HEAD = 'ab'.repeat(32);

/** A genuine Automerge change with one checksum byte flipped. */
function badChecksumChange(): Uint8Array {
  const doc = Automerge.change(Automerge.init<{ x?: number }>({ actor: '01'.repeat(16) }), { time: 0 }, (d) => {
    d.x = 1;
  });
  const change = Automerge.getLastLocalChange(doc);
  assert.ok(change !== undefined);
  const out = change.slice();
  out[4] = (out[4] ?? 0) ^ 0xff;
  return out;
}

void describe('a replicated node under hostile traffic (libp2p, memory transport)', () => {
  let victim: Libp2pNode;
  let honest: Libp2pNode;
  let attacker: Libp2pMesh;
  let raw: Libp2p;
  let victimSpec: MemoryNodeSpec;

  before(async () => {
    const specs = await memoryNodeSpecs(3, 3401);
    const [v, h, a] = [specs[0], specs[1], specs[2]];
    assert.ok(v !== undefined && h !== undefined && a !== undefined);
    victimSpec = v;
    victim = await startMemoryNode({ spec: v, peers: [v, h], name: 'victim' });
    honest = await startMemoryNode({ spec: h, peers: [v, h], name: 'honest' });
    // A gossipsub peer that speaks the topic but runs no replicator: it publishes raw bytes.
    attacker = memoryMesh(a, [v], { cluster: TEST_CLUSTER, maxMessageBytes: 4 * 1024 * 1024 });
    attacker.subscribe(TOPIC);
    await attacker.start();
    raw = await startRawPeer('memory');
    await waitUntil(() => sameHeads([victim, honest]) && victim.doc.members().length === 2, 'victim and honest converge');
    await waitUntil(() => victim.mesh.peers().includes(attacker.self), 'the attacker is connected');
  });

  after(async () => {
    await raw.stop();
    await attacker.stop();
    await stopAll([victim, honest]);
  });

  const gossipCases: Array<[string, RejectReason, () => Uint8Array]> = [
    ['an envelope with an impossible head count', 'undecodable', () => Uint8Array.of(1, 1, 0xff, 0xff, 1, 2, 3)],
    ['random bytes', 'unsupported-version', () => Uint8Array.from({ length: 200 }, (_, i) => (i * 37 + 11) & 0xff)],
    ['an unknown envelope version', 'unsupported-version', () => Uint8Array.of(9, 1, 0, 0, 0, 0)],
    ['a sync envelope on the gossip topic', 'unexpected-type', () => encodeWire({ type: 'sync', heads: [HEAD], message: null })],
    ['a change whose checksum does not match', 'bad-checksum', () => encodeWire({ type: 'changes', heads: [HEAD], changes: [badChecksumChange()] })],
    ['a want request on the gossip topic', 'unexpected-type', () => encodeWire({ type: 'want', heads: [HEAD], hashes: [HEAD] })],
    [
      'a change reference on heads the victim holds that does not rebuild to its hash',
      'bad-checksum',
      () => encodeWire({ type: 'change-refs', heads: [HEAD], refs: [{ hash: HEAD, base: victim.doc.headsDigest(), extra: [], rest: Uint8Array.of(16, 1, 2, 3) }] }),
    ],
    ['an envelope over MAX_GOSSIP_BYTES (under the mesh cap)', 'oversized', () => new Uint8Array(MAX_GOSSIP_BYTES + 1024).fill(1)],
  ];

  for (const [label, reason, bytes] of gossipCases) {
    void it(`gossip: drops and counts ${label} (${reason}); document unchanged`, async () => {
      const heads = victim.doc.heads();
      const applied = victim.replicator.stats().gossipApplied;
      const counted = (): number => victim.replicator.stats().gossipDropped[reason];
      const start = counted();
      await waitUntil(async () => {
        if (counted() > start) return true;
        await attacker.publish(TOPIC, bytes());
        await new Promise((r) => setTimeout(r, 100));
        return false;
      }, `the victim counts a ${reason} gossip drop`);
      assert.deepEqual(victim.doc.heads(), heads, 'document unchanged');
      assert.equal(victim.replicator.stats().gossipApplied, applied, 'nothing from the attacker applied');
    });
  }

  const syncCases: Array<[string, RejectReason, () => Uint8Array]> = [
    ['random bytes', 'unsupported-version', () => Uint8Array.from({ length: 300 }, (_, i) => (i * 53 + 7) & 0xff)],
    ['an envelope with a bad message flag', 'undecodable', () => Uint8Array.of(1, 2, 0, 0, 5)],
    ['a changes envelope on the sync protocol', 'unexpected-type', () => encodeWire({ type: 'changes', heads: [HEAD], changes: [] })],
    ['change references on the sync protocol', 'unexpected-type', () => encodeWire({ type: 'change-refs', heads: [HEAD], refs: [] })],
    ['a sync message Automerge cannot decode', 'undecodable', () => encodeWire({ type: 'sync', heads: [HEAD], message: Uint8Array.of(0x42, 1, 2, 3) })],
    ['an envelope over MAX_SYNC_BYTES (under the mesh cap)', 'oversized', () => new Uint8Array(MAX_SYNC_BYTES + 1024).fill(2)],
  ];

  for (const [label, reason, bytes] of syncCases) {
    void it(`sync protocol: refuses and counts ${label} (${reason}); document unchanged`, async () => {
      const heads = victim.doc.heads();
      const start = victim.replicator.stats().syncDropped[reason];
      const { reply } = await sendRaw(raw, bootstrapOf(victimSpec), PROTOCOL, encodeFrame(bytes()), { close: true });
      assert.equal(envelopeOf(reply)?.type, 'error', 'the handler refused the request');
      assert.equal(victim.replicator.stats().syncDropped[reason], start + 1);
      assert.deepEqual(victim.doc.heads(), heads, 'document unchanged');
    });
  }

  void it('gossip above the mesh cap is rejected by the mesh before the replicator sees it', async () => {
    const heads = victim.doc.heads();
    const received = victim.replicator.stats().gossipReceived;
    const meshDrops = (): number => victim.mesh.stats().dropped['message-too-large'];
    const start = meshDrops();
    await waitUntil(async () => {
      if (meshDrops() > start) return true;
      await attacker.publish(TOPIC, new Uint8Array(victim.mesh.config.maxMessageBytes + 1024).fill(3));
      await new Promise((r) => setTimeout(r, 100));
      return false;
    }, 'the victim mesh counts a message-too-large drop');
    assert.equal(victim.replicator.stats().gossipReceived, received, 'never delivered to the replicator');
    assert.deepEqual(victim.doc.heads(), heads, 'document unchanged');
  });

  void it('keeps replicating with honest peers afterwards (gossip and sync)', async () => {
    const applied = victim.replicator.stats().gossipApplied;
    relabel(honest, 'after-attack', 'yes');
    await waitUntil(() => labelOf(victim, honest.self, 'after-attack') === 'yes', 'the honest change arrives');
    relabel(victim, 'victim-ok', 'yes');
    await waitUntil(() => sameHeads([victim, honest]), `victim and honest converge\n${headsReport([victim, honest])}`);
    assert.ok(victim.replicator.stats().gossipApplied >= applied);
    const report = await victim.replicator.checkConvergence();
    assert.ok(report.peers.some((p) => p.peer === honest.self && p.sameAsMine), JSON.stringify(report));
    assert.equal(victim.doc.members().length, 2, 'the attacker never became a member');
  });
});

