import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { changesTopic, CONVERGENCE_CHECK_ATTEMPTS, CONVERGENCE_SAMPLE, syncProtocol } from '../../src/state/replicator.js';
import { MIN_REF_DEPS } from '../../src/state/change-refs.js';
import { ClusterDoc } from '../../src/state/cluster-doc.js';
import { decodeWire, encodeWire, MAX_GOSSIP_BYTES, MAX_SYNC_BYTES } from '../../src/state/wire.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { member, TestCluster } from '../support/state-cluster.js';

/** The change a write emits. */
function changeWritten(doc: ClusterDoc, write: () => boolean): Uint8Array {
  let change: Uint8Array | undefined;
  const off = doc.onChange((e) => (change = e.change));
  write();
  off();
  assert.ok(change !== undefined);
  return change;
}

const IDS = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e'];
let cluster: TestCluster;

afterEach(async () => {
  await cluster.stopAll();
});

void describe('replication over the Mesh', () => {
  void it('5 nodes each write their member record and reach identical heads', async () => {
    cluster = new TestCluster();
    for (const id of IDS) await cluster.add(id);
    await cluster.run(100);
    for (const id of IDS) cluster.get(id).state.doc.writeOwnMember(member(id));
    await cluster.run(3_000);
    assert.ok(cluster.allSameHeads(), JSON.stringify(cluster.heads(), null, 1));
    for (const id of IDS) {
      const node = cluster.get(id);
      assert.deepEqual(node.state.doc.members().map((m) => m.id), IDS);
      const pending = node.state.replicator.checkConvergence();
      await cluster.run(50);
      const report = await pending;
      assert.equal(report.converged, true, JSON.stringify(report));
      assert.ok(report.peers.every((p) => p.sameAsMine && p.heads !== null));
      assert.deepEqual(report.peers.map((p) => p.peer), IDS.filter((p) => p !== id));
      assert.ok(node.state.replicator.stats().published >= 1);
    }
  });

  void it('a sync session between peers already in sync is one heads-probe turn', async () => {
    cluster = new TestCluster({ syncIntervalMs: 3_600_000 });
    for (const id of ['node-a', 'node-b']) await cluster.add(id);
    await cluster.run(100);
    cluster.get('node-a').state.doc.writeOwnMember(member('node-a'));
    await cluster.run(500);
    assert.ok(cluster.allSameHeads());
    const a = cluster.get('node-a').state.replicator;
    const b = cluster.get('node-b').state.replicator;
    const [turns, served] = [a.stats().syncTurns, b.stats().syncRequestsServed];
    const session = a.syncWith('node-b');
    await cluster.run(50);
    await session;
    assert.equal(a.stats().syncTurns - turns, 1, 'one round trip');
    assert.equal(b.stats().syncRequestsServed - served, 1);
    // Out of sync, the probe is answered with a sync message and the protocol runs.
    cluster.get('node-b').state.doc.writeOwnRole({ role: 'worker', phase: 'ready' });
    cluster.hub.setGossipDrop('node-b', 'node-a', true);
    const catchUp = a.syncWith('node-b');
    await cluster.run(100);
    await catchUp;
    assert.ok(cluster.allSameHeads(), JSON.stringify(cluster.heads()));
  });

  void it('a peer state digest that differs makes a quiet node sync with that peer (lost gossip repaired at once)', async () => {
    cluster = new TestCluster({ syncIntervalMs: 3_600_000 });
    for (const id of ['node-a', 'node-b']) await cluster.add(id);
    await cluster.run(500);
    const a = cluster.get('node-a').state.replicator;
    const b = cluster.get('node-b').state.replicator;
    // The same digest: nothing to do.
    a.peerState('node-b', b.stateDigest());
    assert.equal(a.stats().digestSyncs, 0);
    // node-b writes; the gossip copy to node-a is lost.
    cluster.hub.setGossipDrop('node-b', 'node-a', true);
    cluster.get('node-b').state.doc.writeOwnMember(member('node-b'));
    await cluster.run(200);
    assert.ok(!cluster.allSameHeads());
    assert.equal(a.stateDigest().length, 16);
    assert.notEqual(a.stateDigest(), b.stateDigest());
    // node-a wrote just now itself: changes may still be on their way, so it waits.
    cluster.get('node-a').state.doc.writeOwnMember(member('node-a'));
    a.peerState('node-b', b.stateDigest());
    assert.equal(a.stats().digestSyncs, 0);
    await cluster.run(500);
    a.peerState('node-b', b.stateDigest());
    assert.equal(a.stats().digestSyncs, 1);
    await cluster.run(200);
    assert.ok(cluster.allSameHeads(), JSON.stringify(cluster.heads()));
    assert.equal(a.stateDigest(), b.stateDigest());
  });

  void it('a burst of gossip is applied in fewer calls than envelopes', async () => {
    cluster = new TestCluster({ syncIntervalMs: 3_600_000 });
    for (const id of ['node-a', 'node-b']) await cluster.add(id);
    await cluster.run(100);
    const doc = cluster.get('node-a').state.doc;
    const b = cluster.get('node-b').state.replicator;
    const before = b.stats();
    doc.writeOwnMember(member('node-a'));
    doc.writeOwnRole({ role: 'worker', phase: 'starting' });
    doc.writeOwnRole({ role: 'worker', phase: 'ready' });
    await cluster.run(300);
    const after = b.stats();
    assert.equal(after.gossipApplied - before.gossipApplied, 3);
    assert.equal(after.gossipBatches - before.gossipBatches, 2, 'the first at once, the other two together');
    assert.ok(cluster.allSameHeads());
  });

  void it('a convergence check in a large fleet asks a bounded sample that includes the named peers', async () => {
    cluster = new TestCluster({ syncIntervalMs: 3_600_000 });
    const ids = Array.from({ length: 24 }, (_, i) => `node-${String(i).padStart(2, '0')}`);
    for (const id of ids) await cluster.add(id);
    await cluster.run(500);
    const node = cluster.get('node-00').state.replicator;
    const check = node.checkConvergence({ include: ['node-23', 'not-a-peer'] });
    await cluster.run(100);
    const report = await check;
    assert.ok(report.peers.length <= CONVERGENCE_SAMPLE + 1 && report.peers.length >= CONVERGENCE_SAMPLE, `${report.peers.length} peers checked`);
    assert.ok(report.peers.some((p) => p.peer === 'node-23'));
    assert.ok(!report.peers.some((p) => p.peer === 'not-a-peer'), 'only reachable peers are asked');
    assert.equal(report.converged, true, JSON.stringify(report));
  });

  void it('a convergence check retries a peer whose request was lost, up to CONVERGENCE_CHECK_ATTEMPTS sessions', async () => {
    cluster = new TestCluster({ syncIntervalMs: 3_600_000, requestTimeoutMs: 1_000 });
    for (const id of ['node-a', 'node-b', 'node-c']) await cluster.add(id);
    await cluster.run(500);
    const a = cluster.get('node-a').state.replicator;
    // One lost request: the peer's first session ends at its timeout, the second answers.
    cluster.hub.loseRequests('node-a', 'node-b', 1);
    let sessions = a.stats().syncSessions;
    const once = a.checkConvergence();
    await cluster.run(1_500);
    const report = await once;
    assert.equal(report.converged, true, JSON.stringify(report));
    assert.deepEqual(report.answered, ['node-b', 'node-c']);
    assert.equal(a.stats().syncSessions - sessions, 3, 'node-b twice, node-c once');
    // Every attempt lost: the peer is reported as not answering after the last one, no more.
    cluster.hub.loseRequests('node-a', 'node-b', 100);
    sessions = a.stats().syncSessions;
    const lost = a.checkConvergence();
    await cluster.run(CONVERGENCE_CHECK_ATTEMPTS * 1_000 + 500);
    const failed = await lost;
    assert.deepEqual(failed.answered, ['node-c']);
    assert.equal(a.stats().syncSessions - sessions, CONVERGENCE_CHECK_ATTEMPTS + 1);
  });

  void it('changes in a sync response that was lost reach the requester in its next session', async () => {
    // Automerge's sync state marks changes as sent when it generates them; over request/response
    // a lost response must not leave them marked, or the responder never sends them again.
    cluster = new TestCluster({ syncIntervalMs: 3_600_000, requestTimeoutMs: 1_000 });
    for (const id of ['node-a', 'node-b']) await cluster.add(id);
    await cluster.run(500);
    cluster.hub.setGossipDrop('node-a', 'node-b', true);
    for (let i = 0; i < 5; i++) cluster.get('node-b').state.doc.writeOwnRole({ role: 'worker', phase: i % 2 === 0 ? 'starting' : 'ready' });
    await cluster.run(200);
    assert.ok(!cluster.allSameHeads());
    const a = cluster.get('node-a').state.replicator;
    for (let round = 1; round <= 3; round++) {
      // node-b serves the session's first turn, its answer (with the changes) is lost.
      cluster.hub.loseResponses('node-a', 'node-b', 1);
      const failed = a.syncWith('node-b');
      await cluster.run(1_500);
      await failed;
      const after = a.syncWith('node-b');
      await cluster.run(500);
      await after;
      assert.ok(cluster.allSameHeads(), `round ${round}: ${JSON.stringify(cluster.heads())}`);
      cluster.get('node-b').state.doc.writeOwnRole({ role: 'worker', phase: round % 2 === 0 ? 'starting' : 'ready' });
      await cluster.run(200);
    }
    assert.ok(a.stats().syncSessionsFailed >= 3);
  });

  void it('a check leaves a silent peer out of its verdict while most answered, unless the caller named it', async () => {
    cluster = new TestCluster({ syncIntervalMs: 3_600_000, requestTimeoutMs: 1_000 });
    for (const id of ['node-a', 'node-b', 'node-c', 'node-d']) await cluster.add(id);
    await cluster.run(500);
    const a = cluster.get('node-a').state.replicator;
    // node-b stops hearing from node-a (its gossip and every request are lost) and a writes:
    // what a last knew of b's heads is now behind.
    cluster.hub.setGossipDrop('node-a', 'node-b', true);
    cluster.hub.loseRequests('node-a', 'node-b', 100);
    cluster.get('node-a').state.doc.writeOwnMember(member('node-a'));
    await cluster.run(200);
    const sample = a.checkConvergence();
    await cluster.run(CONVERGENCE_CHECK_ATTEMPTS * 1_000 + 500);
    const report = await sample;
    assert.deepEqual(report.answered, ['node-c', 'node-d']);
    assert.equal(report.converged, true, JSON.stringify(report));
    assert.deepEqual(report.peers.map((p) => p.peer), ['node-c', 'node-d'], 'b, silent, is left out');
    const named = a.checkConvergence({ include: ['node-b'] });
    await cluster.run(CONVERGENCE_CHECK_ATTEMPTS * 1_000 + 500);
    const strict = await named;
    assert.equal(strict.converged, false, 'a named peer counts even when silent');
    assert.equal(strict.peers.find((p) => p.peer === 'node-b')?.sameAsMine, false);
  });

  void it('a node whose gossip was dropped recovers through periodic sync', async () => {
    cluster = new TestCluster({ syncIntervalMs: 2_000 });
    for (const id of IDS) await cluster.add(id);
    await cluster.run(100);
    for (const other of IDS.slice(0, 4)) cluster.hub.setGossipDrop('node-e', other, true);
    for (const id of IDS.slice(0, 4)) cluster.get(id).state.doc.writeOwnMember(member(id));
    await cluster.run(20);
    const e = cluster.get('node-e');
    assert.deepEqual(e.state.doc.members(), [], 'gossip was dropped, so nothing yet');
    // node-a learnt node-e's (old) heads at startup and its own moved on: not converged.
    assert.equal(cluster.get('node-a').state.replicator.convergence().converged, false);
    await cluster.run(10_000);
    assert.deepEqual(e.state.doc.members().map((m) => m.id), IDS.slice(0, 4));
    assert.equal(e.state.replicator.stats().gossipReceived, 0);
    assert.ok(cluster.allSameHeads(), JSON.stringify(cluster.heads(), null, 1));
  });

  void it('changes waiting on missing dependencies trigger an immediate sync', async () => {
    // Periodic sync is far away: only the missing-deps trigger can explain a catch-up.
    cluster = new TestCluster({ syncIntervalMs: 3_600_000 });
    for (const id of ['node-a', 'node-b', 'node-c']) await cluster.add(id);
    await cluster.run(100);
    cluster.hub.setGossipDrop('node-a', 'node-c', true);
    cluster.get('node-a').state.doc.writeOwnMember(member('node-a')); // c misses this
    await cluster.run(20);
    cluster.get('node-b').state.doc.writeOwnMember(member('node-b')); // depends on a's change
    await cluster.run(100);
    const c = cluster.get('node-c');
    assert.ok(c.state.replicator.stats().missingDepsSyncs >= 1);
    assert.deepEqual(c.state.doc.members().map((m) => m.id), ['node-a', 'node-b']);
    assert.ok(cluster.allSameHeads());
  });

  void it('a change written on many concurrent heads travels as a reference; a receiver that never held those heads fetches it', async () => {
    cluster = new TestCluster({ syncIntervalMs: 3_600_000 });
    for (const id of ['node-a', 'node-b', 'node-c']) await cluster.add(id);
    await cluster.run(100);
    // Many concurrent writers (a fleet recording its roles), and one more that only c has heard of.
    const writers = Array.from({ length: MIN_REF_DEPS + 4 }, (_, i) => ClusterDoc.create({ cluster: 'site-a', self: `w${i}`, clock: cluster.clock, random: new SeededRandom(i + 1), logger: new RecordingLogger() }));
    const concurrent = writers.map((w) => changeWritten(w, () => w.writeOwnMember(member(w.self))));
    const lone = ClusterDoc.create({ cluster: 'site-a', self: 'lone', clock: cluster.clock, random: new SeededRandom(99), logger: new RecordingLogger() });
    const extra = changeWritten(lone, () => lone.writeOwnMember(member('lone')));
    cluster.get('node-a').state.doc.applyChanges(concurrent);
    cluster.get('node-b').state.doc.applyChanges(concurrent);
    cluster.get('node-c').state.doc.applyChanges([...concurrent, extra]); // c never holds a's heads
    const published: Uint8Array[] = [];
    cluster.get('node-b').mesh.on('message', (e) => published.push(e.data));
    cluster.get('node-a').state.doc.writeOwnMember(member('node-a'));
    await cluster.run(1_000);
    assert.equal(published.length, 1);
    const envelope = decodeWire(published[0] as Uint8Array, MAX_GOSSIP_BYTES);
    assert.equal(envelope.type, 'change-refs');
    assert.ok((published[0] as Uint8Array).length < 32 * (MIN_REF_DEPS + 4), `a reference, not the ${MIN_REF_DEPS + 4} dependencies: ${(published[0] as Uint8Array).length} bytes`);
    const b = cluster.get('node-b').state;
    const c = cluster.get('node-c').state;
    assert.equal(b.replicator.stats().gossipUnresolved, 0, 'b held the heads a wrote on: rebuilt');
    assert.ok(b.doc.member('node-a') !== undefined);
    assert.equal(c.replicator.stats().gossipUnresolved, 1);
    assert.equal(c.replicator.stats().changeFetches, 1, 'c asked a for the change');
    assert.equal(c.replicator.stats().missingDepsSyncs, 0, 'and needed no sync session');
    assert.ok(c.doc.member('node-a') !== undefined);
  });

  void it('a late joiner catches up', async () => {
    cluster = new TestCluster({ syncIntervalMs: 3_600_000 });
    for (const id of IDS.slice(0, 4)) await cluster.add(id);
    await cluster.run(100);
    for (const id of IDS.slice(0, 4)) cluster.get(id).state.doc.writeOwnMember(member(id));
    cluster.get('node-a').state.doc.writePolicy({ yaml: 'managers: 3\n', name: 'site-ha', version: 1, signature: 'sig', signer: 'ops' });
    await cluster.run(500);
    const late = await cluster.add('node-e');
    const events: string[] = [];
    late.state.replicator.on('doc:changed', (e) => events.push(`${e.origin}:${e.heads.length}`));
    await cluster.run(200);
    assert.ok(events.length >= 1 && events.every((e) => e.startsWith('remote:')), events.join(','));
    assert.deepEqual(late.state.doc.members().map((m) => m.id), IDS.slice(0, 4));
    assert.equal(late.state.doc.policy()?.name, 'site-ha');
    assert.ok(cluster.allSameHeads());
  });

  void it('a newcomer to a large fleet pulls one copy of the document; the members do not push it more', async () => {
    cluster = new TestCluster({ syncIntervalMs: 3_600_000 });
    const ids = Array.from({ length: 24 }, (_, i) => `node-${String(i).padStart(2, '0')}`);
    for (const id of ids) await cluster.add(id);
    await cluster.run(100);
    for (const id of ids) cluster.get(id).state.doc.writeOwnMember(member(id));
    await cluster.run(2_000);
    assert.ok(cluster.allSameHeads());
    const sessionsBefore = ids.map((id) => cluster.get(id).state.replicator.stats().syncSessions);
    const late = await cluster.add('node-new');
    await cluster.run(500);
    assert.deepEqual(late.state.doc.members().map((m) => m.id), ids);
    assert.ok(cluster.allSameHeads());
    const stats = late.state.replicator.stats();
    assert.equal(stats.syncSessions, 1, 'one catch-up session, not one per peer');
    assert.equal(stats.syncRequestsServed, 0, 'no member started a session toward the newcomer');
    assert.deepEqual(ids.map((id) => cluster.get(id).state.replicator.stats().syncSessions), sessionsBefore);
  });

  void it('a partition heals and both sides converge', async () => {
    cluster = new TestCluster();
    for (const id of IDS) await cluster.add(id);
    await cluster.run(100);
    for (const a of ['node-a', 'node-b']) for (const b of ['node-c', 'node-d', 'node-e']) cluster.hub.setPartitioned(a, b, true);
    await cluster.run(20);
    for (const id of IDS) cluster.get(id).state.doc.writeOwnRole({ role: 'worker', phase: `p-${id}` });
    await cluster.run(3_000);
    const check = cluster.get('node-a').state.replicator.checkConvergence();
    await cluster.run(50);
    const report = await check;
    assert.equal(report.converged, true, 'converged with what it can reach');
    assert.deepEqual(report.peers.map((p) => p.peer), ['node-b']);
    assert.equal(Object.keys(cluster.get('node-a').state.doc.roles()).length, 2);
    for (const a of ['node-a', 'node-b']) for (const b of ['node-c', 'node-d', 'node-e']) cluster.hub.setPartitioned(a, b, false);
    await cluster.run(3_000);
    assert.ok(cluster.allSameHeads(), JSON.stringify(cluster.heads(), null, 1));
    assert.equal(Object.keys(cluster.get('node-a').state.doc.roles()).length, 5);
  });

  void it('a node restarted from its storage keeps its document, draws a new actor, and its writes still replicate', async () => {
    cluster = new TestCluster();
    for (const id of IDS.slice(0, 3)) await cluster.add(id);
    await cluster.run(100);
    for (const id of IDS.slice(0, 3)) cluster.get(id).state.doc.writeOwnMember(member(id));
    await cluster.run(1_000);
    const before = cluster.get('node-a');
    const heads = before.state.doc.heads();
    const actor = before.state.doc.actor;
    await cluster.remove('node-a');
    const after = await cluster.add('node-a', before.storage);
    assert.equal(after.state.source, 'saved');
    assert.deepEqual(after.state.doc.heads(), heads);
    assert.notEqual(after.state.doc.actor, actor);
    after.state.doc.writeOwnMember({ ...member('node-a'), incarnation: 1 });
    await cluster.run(1_000);
    assert.ok(cluster.allSameHeads());
    assert.equal(cluster.get('node-b').state.doc.member('node-a')?.incarnation, 1);
  });

  void it('a truncated document file is moved aside; the node starts and re-syncs', async () => {
    cluster = new TestCluster();
    for (const id of IDS.slice(0, 3)) await cluster.add(id);
    await cluster.run(100);
    for (const id of IDS.slice(0, 3)) cluster.get(id).state.doc.writeOwnMember(member(id));
    await cluster.run(1_000);
    const old = await cluster.remove('node-c');
    const file = old.storage.snapshot().get('cluster.automerge');
    assert.ok(file !== undefined);
    await old.storage.write('cluster.automerge', file.subarray(0, Math.floor(file.length / 2)));
    const c = await cluster.add('node-c', old.storage);
    assert.equal(c.state.source, 'recovered-from-corruption');
    const names = await c.storage.list();
    assert.ok(names.some((n) => /^cluster\.automerge\.corrupt-\d+$/.test(n)), names.join(','));
    assert.ok(c.logger.at('error').some((l) => l.msg.includes('damaged')));
    await cluster.run(1_000);
    assert.deepEqual(c.state.doc.members().map((m) => m.id), IDS.slice(0, 3));
    assert.ok(cluster.allSameHeads());
    await c.state.stop();
    assert.ok(c.storage.snapshot().has('cluster.automerge'));
  });
});

void describe('garbage from peers', () => {
  void it('is dropped and counted on the gossip topic; the document is unchanged', async () => {
    cluster = new TestCluster();
    const victim = await cluster.add('node-a');
    const evil = cluster.hub.createMesh('node-evil');
    await evil.start();
    await cluster.run(100);
    let realChange: Uint8Array | undefined;
    victim.state.doc.onChange((e) => {
      realChange ??= e.change;
    });
    victim.state.doc.writeOwnMember(member('node-a'));
    await cluster.run(100);
    const heads = victim.state.doc.heads();
    const topic = changesTopic('site-a');
    // A real change (the victim's own) with its checksum damaged: the content still decodes.
    const badChecksum = (realChange as Uint8Array).slice();
    badChecksum[5] = (badChecksum[5] as number) ^ 0xff;
    const validHead = heads[0] as string;
    const garbage: Uint8Array[] = [
      new Uint8Array([1, 2, 3]),
      new Uint8Array(MAX_GOSSIP_BYTES + 1),
      Uint8Array.from([9, 1, 0, 0, 0, 0]),
      // A change chunk header around nothing, with a made-up checksum.
      encodeWire({ type: 'changes', heads: [validHead], changes: [new Uint8Array([0x85, 0x6f, 0x4a, 0x83, 1, 2, 3, 4, 1, 0])] }),
      encodeWire({ type: 'sync', heads: [], message: null }),
      encodeWire({ type: 'changes', heads: [], changes: [badChecksum] }),
    ];
    for (const g of garbage) await evil.publish(topic, g);
    await cluster.run(50);
    const stats = victim.state.replicator.stats();
    assert.equal(stats.gossipReceived, garbage.length);
    assert.equal(stats.gossipApplied, 0);
    assert.deepEqual(stats.gossipDropped, { 'oversized': 1, 'undecodable': 1, 'unsupported-version': 1, 'unexpected-type': 1, 'bad-checksum': 2, 'rejected-by-automerge': 0 });
    assert.deepEqual(victim.state.doc.heads(), heads);
    assert.equal(victim.logger.at('warn').filter((l) => l.msg === 'dropped data from peer').length, garbage.length);
    // Still works afterwards.
    assert.ok(victim.state.doc.writeOwnRole({ role: 'worker', phase: 'ready' }));
    assert.equal(victim.state.replicator.stats().published, 2);
    await evil.stop();
  });

  void it('is dropped and counted on the sync protocol, both as request and as response', async () => {
    cluster = new TestCluster({ syncIntervalMs: 3_600_000 });
    const victim = await cluster.add('node-a');
    const evil = cluster.hub.createMesh('node-evil');
    evil.handle(syncProtocol('site-a'), () => Promise.resolve(new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 3, 7, 7, 7])));
    await evil.start();
    await cluster.run(100);
    victim.state.doc.writeOwnMember(member('node-a'));
    await cluster.run(100);
    const heads = victim.state.doc.heads();
    // The session the victim ran when node-evil came up already met a garbage response.
    const initial = victim.state.replicator.stats();
    assert.equal(initial.syncDropped['unexpected-type'], 1);
    // As requests to the victim.
    const requests = [new Uint8Array(0), new Uint8Array([1, 2, 0, 0, 1, 0, 0, 0, 2, 0x42, 0x00]), encodeWire({ type: 'changes', heads: [], changes: [] }), new Uint8Array(MAX_SYNC_BYTES + 1)];
    const answers = requests.map((r) => evil.request('node-a', syncProtocol('site-a'), r).then(() => 'answered', (err: unknown) => (err instanceof Error ? err.name : 'thrown')));
    await cluster.run(50);
    assert.deepEqual(await Promise.all(answers), ['MeshRequestError', 'MeshRequestError', 'MeshRequestError', 'MeshRequestError']);
    // As a response from the evil peer (its handler answers garbage).
    const session = victim.state.replicator.syncWith('node-evil');
    await cluster.run(50);
    await session;
    const stats = victim.state.replicator.stats();
    // empty + undecodable sync message: 'undecodable'; a 'changes' envelope as request and the
    // evil response (type code 0): 'unexpected-type' (plus the one from start-up).
    assert.deepEqual(stats.syncDropped, { 'oversized': 1, 'undecodable': 2, 'unsupported-version': 0, 'unexpected-type': 3, 'bad-checksum': 0, 'rejected-by-automerge': 0 });
    assert.equal(stats.syncSessionsFailed, initial.syncSessionsFailed + 1);
    assert.deepEqual(victim.state.doc.heads(), heads);
    await evil.stop();
  });
});
