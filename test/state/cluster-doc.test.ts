import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as Automerge from '@automerge/automerge';
import { ClusterDoc, type ClusterDocInit } from '../../src/state/cluster-doc.js';
import { genesis, genesisActor } from '../../src/state/genesis.js';
import type { Member } from '../../src/state/schema.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { syncDocs } from '../support/sync-docs.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';

function init(self: string, seed: number, logger = new RecordingLogger()): ClusterDocInit & { logger: RecordingLogger } {
  return { cluster: 'site-a', self, clock: new ManualClock(), random: new SeededRandom(seed), logger };
}

function memberRecord(name: string): Omit<Member, 'id'> {
  return {
    name,
    addresses: [`/ip4/10.0.0.1/tcp/4001`],
    facts: { cpus: 4, memoryMB: 8192, diskGB: 64, arch: 'arm64' },
    labels: { zone: 'a' },
    joinedAt: 1_700_000_000_000,
    leftAt: null,
    incarnation: 0,
  };
}

/** Moves every change `from` has and `to` lacks. */
const exchange = (from: ClusterDoc, to: ClusterDoc): void => syncDocs(from, to);

void describe('genesis', () => {
  void it('is byte-identical for the same cluster name and differs between clusters', () => {
    assert.equal(genesisActor('site-a').length, 32);
    assert.notEqual(genesisActor('site-a'), genesisActor('site-b'));
    assert.equal(genesis('site-a').hash, genesis('site-a').hash);
    assert.notEqual(genesis('site-a').hash, genesis('site-b').hash);
  });

  void it('is pinned: changing it would split every existing cluster', () => {
    assert.equal(genesis('site-a').hash, '7126bc26c15d2fe0b4b3aa8afbee6d891bfe40f3139eafbb5e281eda5fcd6c6d'); // schema 2
  });

  void it('two nodes that create the document independently merge into ONE members map', () => {
    const a = ClusterDoc.create(init('node-a', 1));
    const b = ClusterDoc.create(init('node-b', 2));
    assert.notEqual(a.actor, b.actor);
    assert.ok(a.writeOwnMember(memberRecord('a')));
    assert.ok(b.writeOwnMember(memberRecord('b')));
    exchange(a, b);
    assert.deepEqual(a.members().map((m) => m.id), ['node-a', 'node-b']);
    assert.deepEqual(b.members().map((m) => m.id), ['node-a', 'node-b']);
    assert.deepEqual(a.heads(), b.heads());
  });
});

void describe('ClusterDoc', () => {
  void it('draws a fresh actor id for every create and load', () => {
    const i = init('node-a', 7);
    const a = ClusterDoc.create(i);
    const b = ClusterDoc.load(a.save(), i);
    assert.notEqual(a.actor, b.actor);
    assert.deepEqual(a.heads(), b.heads());
  });

  void it('stamps changes with the injected clock in seconds', () => {
    const i = init('node-a', 3);
    const doc = ClusterDoc.create(i);
    doc.writeOwnMember(memberRecord('a'));
    const changes = Automerge.getAllChanges(Automerge.load(doc.save())).map((c) => Automerge.decodeChange(c));
    const mine = changes.find((c) => c.actor === doc.actor);
    assert.equal(mine?.time, Math.floor(i.clock.now() / 1000));
  });

  void it('round-trips every writer through its reader', () => {
    const i = init('node-a', 4);
    const doc = ClusterDoc.create(i);
    doc.writeOwnMember(memberRecord('a'));
    doc.writeVerdict('node-b', { status: 'down', incarnation: 3 });
    doc.writeOwnRole({ role: 'manager', phase: 'ready' });
    doc.writeDriverRecord('etcd', 'bootstrap', { by: 'node-a', endpoints: ['http://10.0.0.1:2379'], n: 1, ok: true, x: null });
    doc.writePolicy({ yaml: 'managers: 3\n', name: 'site-ha', version: 2, signature: 'c2ln', signer: 'ops' });
    assert.deepEqual(doc.member('node-a'), { id: 'node-a', ...memberRecord('a') });
    assert.deepEqual(doc.verdicts(), { 'node-b': { status: 'down', incarnation: 3, by: 'node-a', at: i.clock.now() } });
    assert.deepEqual(doc.roles(), { 'node-a': { role: 'manager', phase: 'ready', detail: null, at: i.clock.now() } });
    assert.deepEqual(doc.drivers(), ['etcd', 'pace']);
    assert.deepEqual(doc.driverRecords('etcd'), { bootstrap: { by: 'node-a', endpoints: ['http://10.0.0.1:2379'], n: 1, ok: true, x: null } });
    assert.deepEqual(doc.policy(), { yaml: 'managers: 3\n', name: 'site-ha', version: 2, signature: 'c2ln', signer: 'ops' });
    assert.equal(i.logger.at('warn').length, 0);
  });

  void it('makes no change when a writer would write the same value', () => {
    const doc = ClusterDoc.create(init('node-a', 5));
    assert.equal(doc.writeOwnMember(memberRecord('a')), true);
    const heads = doc.heads();
    assert.equal(doc.writeOwnMember(memberRecord('a')), false);
    assert.equal(doc.writeOwnRole({ role: 'worker', phase: 'joining' }), true);
    assert.equal(doc.writeOwnRole({ role: 'worker', phase: 'joining' }), false);
    assert.notDeepEqual(doc.heads(), heads);
  });

  void it('ignores a hostile member entry with a logged reason and keeps reading the others', () => {
    const good = ClusterDoc.create(init('node-a', 8));
    good.writeOwnMember(memberRecord('a'));
    // A hostile peer, writing raw Automerge, gives node-evil a memoryMB of "lots".
    let raw = Automerge.load<Record<string, unknown>>(good.save());
    const text = (value: unknown): Automerge.ImmutableString => new Automerge.ImmutableString(JSON.stringify(value));
    raw = Automerge.change(raw, (d) => {
      const members = d['members'] as Record<string, unknown>;
      members['node-evil'] = text({ ...memberRecord('evil'), id: 'node-evil', facts: { cpus: 1, memoryMB: 'lots', diskGB: 1, arch: 'x86_64' } });
      members['node-liar'] = text({ ...memberRecord('liar'), id: 'node-a' });
      members['node-nested'] = { ...memberRecord('nested'), id: 'node-nested' };
      members['node-garbled'] = new Automerge.ImmutableString('{"id": "node-garbled"');
      (d['verdicts'] as Record<string, unknown>)['node-a'] = text({ status: 'exploded', incarnation: 1, by: 'x', at: 0 });
      (d['roles'] as Record<string, unknown>)['node-a'] = 42;
    });
    const change = Automerge.getLastLocalChange(raw) as Uint8Array;
    const logger = new RecordingLogger();
    const victim = ClusterDoc.create(init('node-b', 9, logger));
    exchange(good, victim);
    victim.applyChanges([change]);
    assert.deepEqual(victim.members().map((m) => m.id), ['node-a']);
    assert.deepEqual(victim.verdicts(), {});
    assert.deepEqual(victim.roles(), {});
    const reasons = logger.at('warn').map((l) => `${String(l.obj['path'])}: ${String(l.obj['reason'])}`);
    assert.ok(reasons.includes('members.node-evil: memoryMB: expected a non-negative integer, got "lots"'), reasons.join('\n'));
    assert.ok(reasons.some((r) => r.startsWith('members.node-liar: id "node-a" does not match')), reasons.join('\n'));
    assert.ok(reasons.some((r) => r.startsWith('verdicts.node-a: status: unknown')), reasons.join('\n'));
    assert.ok(reasons.includes('members.node-nested: expected a record as JSON text, got an object'), reasons.join('\n'));
    assert.ok(reasons.some((r) => r.startsWith('members.node-garbled: not JSON:')), reasons.join('\n'));
    assert.ok(reasons.includes('roles.node-a: expected a record as JSON text, got a number'), reasons.join('\n'));
    // Logged once per path and reason, however often it is read.
    const before = logger.at('warn').length;
    victim.members();
    victim.members();
    assert.equal(logger.at('warn').length, before);
  });

  void it('survives a peer replacing a whole top-level map: reads are empty, writes refuse', () => {
    const a = ClusterDoc.create(init('node-a', 10));
    let raw = Automerge.load<Record<string, unknown>>(a.save());
    raw = Automerge.change(raw, (d) => {
      d['members'] = 'gone';
    });
    const logger = new RecordingLogger();
    const b = ClusterDoc.create(init('node-b', 11, logger));
    b.applyChanges([Automerge.getLastLocalChange(raw) as Uint8Array]);
    assert.deepEqual(b.members(), []);
    assert.throws(() => b.writeOwnMember(memberRecord('b')), { name: 'DocumentShapeError' });
    assert.ok(logger.at('warn').some((l) => l.obj['path'] === 'members'));
  });

  void it('refuses a document of another cluster', () => {
    const other = ClusterDoc.create({ ...init('node-a', 12), cluster: 'site-b' });
    assert.throws(() => ClusterDoc.load(other.save(), init('node-a', 13)), { name: 'DocumentLoadError', reason: 'foreign-cluster' });
  });

  void it('rejects malformed change bytes and leaves the document unchanged', () => {
    const a = ClusterDoc.create(init('node-a', 14));
    a.writeOwnMember(memberRecord('a'));
    const b = ClusterDoc.create(init('node-b', 15));
    exchange(a, b);
    let good: Uint8Array = new Uint8Array();
    a.onChange((e) => {
      if (e.change !== undefined) good = e.change;
    });
    a.writeOwnRole({ role: 'worker', phase: 'ready' });
    const heads = b.heads();
    const flipped = good.slice();
    flipped[20] = (flipped[20] as number) ^ 0x01;
    for (const bad of [new Uint8Array([1, 2, 3]), good.subarray(0, good.length - 4), flipped]) {
      assert.throws(() => b.applyChanges([bad]), { name: 'ChangeRejectedError' });
      assert.deepEqual(b.heads(), heads);
    }
    assert.throws(() => b.receiveSyncMessage(b.newSyncState(), new Uint8Array([0x42, 9, 9])), { name: 'ChangeRejectedError' });
    assert.deepEqual(b.heads(), heads);
    b.applyChanges([good]);
    assert.equal(b.roles()['node-a']?.phase, 'ready');
  });

  void it('a responder that forgets its sent changes after each message syncs a loss-free session message for message the same', () => {
    /** Two documents with histories of their own and one shared third writer's. */
    const pair = (): [ClusterDoc, ClusterDoc] => {
      const a = ClusterDoc.create(init('node-a', 11));
      const b = ClusterDoc.load(a.save(), init('node-b', 12));
      const c = ClusterDoc.load(a.save(), init('node-c', 13));
      for (let i = 0; i < 20; i++) {
        a.writeOwnMember({ ...memberRecord('a'), incarnation: i });
        b.writeOwnMember({ ...memberRecord('b'), incarnation: i });
        c.writeOwnMember({ ...memberRecord('c'), incarnation: i });
      }
      exchange(c, b);
      return [a, b];
    };
    /** The messages of one session, `a` asking and `b` answering; `forget` clears b's sent set after each request. */
    const session = (forget: boolean): string[] => {
      const [a, b] = pair();
      const [sa, sb] = [a.newSyncState(), b.newSyncState()];
      const sent: string[] = [];
      for (let turn = 0; turn < 10; turn++) {
        const request = a.generateSyncMessage(sa);
        if (request !== null) {
          b.receiveSyncMessage(sb, request);
          if (forget) b.forgetSentChanges(sb);
        }
        const reply = b.generateSyncMessage(sb);
        if (reply !== null) a.receiveSyncMessage(sa, reply);
        sent.push(Buffer.from(request ?? []).toString('hex'), Buffer.from(reply ?? []).toString('hex'));
        if (request === null && reply === null) break;
      }
      assert.deepEqual(a.heads(), b.heads());
      return sent;
    };
    const plain = session(false);
    assert.ok(plain.length >= 4, `${plain.length / 2} turns`);
    assert.deepEqual(session(true), plain);
  });
});

void describe('heads', () => {
  void it('concurrent writes leave several heads; mergeHeads joins them into one and replicates', () => {
    const a = ClusterDoc.create(init('node-a', 30));
    const b = ClusterDoc.create(init('node-b', 31));
    a.writeOwnMember(memberRecord('a'));
    b.writeOwnMember(memberRecord('b'));
    exchange(a, b);
    assert.equal(a.headCount(), 2);
    assert.equal(a.heads().length, 2);
    assert.equal(a.mergeHeads(), true);
    assert.equal(a.headCount(), 1);
    assert.equal(a.mergeHeads(), false, 'nothing left to merge');
    exchange(a, b);
    assert.deepEqual(b.heads(), a.heads());
    assert.deepEqual(b.members().map((m) => m.id), ['node-a', 'node-b'], 'the merge change carries no data');
  });

  void it('headsDigest is the head itself for one head and a hash of the sorted heads otherwise', () => {
    const a = ClusterDoc.create(init('node-a', 32));
    const b = ClusterDoc.create(init('node-b', 33));
    assert.equal(a.headsDigest(), a.heads()[0]);
    a.writeOwnMember(memberRecord('a'));
    b.writeOwnMember(memberRecord('b'));
    exchange(a, b);
    assert.equal(a.headCount(), 2);
    assert.match(a.headsDigest(), /^[0-9a-f]{64}$/);
    assert.ok(!a.heads().includes(a.headsDigest()));
    assert.equal(a.headsDigest(), b.headsDigest(), 'equal heads, equal digest');
  });
});

void describe('readers', () => {
  void it('return frozen values that follow every write and remote apply', () => {
    const a = ClusterDoc.create(init('node-a', 34));
    const b = ClusterDoc.create(init('node-b', 35));
    a.writeOwnMember(memberRecord('a'));
    const members = a.members();
    assert.ok(Object.isFrozen(members) && Object.isFrozen(members[0]!.labels));
    assert.throws(() => (members as Member[]).push(members[0]!), TypeError);
    b.writeOwnMember(memberRecord('b'));
    a.applyChanges(Automerge.getAllChanges(Automerge.load(b.save())));
    assert.deepEqual(a.members().map((m) => m.id), ['node-a', 'node-b']);
    assert.equal(members.length, 1, 'a value read earlier is a snapshot');
    assert.notEqual(a.contentKey(), b.contentKey());
    exchange(b, a);
    assert.equal(a.contentKey(), b.contentKey(), 'same heads, same content key');
  });
});
