import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend, type Backend } from '../../src/state/automerge-backend.js';
import { ClusterDoc, type ClusterDocInit } from '../../src/state/cluster-doc.js';
import { headsAfter } from '../../src/state/doc-handle.js';
import { encodeRecordPut, type PendingWrite } from '../../simulations/harness/pending-writes.js';
import { SharedDocStates } from '../../simulations/harness/shared-doc-states.js';
import type { Member } from '../../src/state/schema.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { syncDocs } from '../support/sync-docs.js';

const ACTOR = (n: number): string => `ffff${String(n).padStart(28, '0')}`;

/** A document with a `roles` map, and the map's id. */
function base(): { doc: Backend; roles: string } {
  const doc = createBackend('00'.repeat(16));
  const roles = doc.putObject('_root', 'roles', {});
  doc.commit('genesis', 0);
  return { doc, roles };
}

/** What Automerge's own commit makes for the same put, on a copy writing as `actor`. */
function committed(doc: Backend, actor: string, pending: readonly PendingWrite[], obj: string, key: string, text: string, message: string, time: number): Uint8Array {
  const copy = doc.fork(actor);
  if (pending.length > 0) copy.applyChanges(pending.map((w) => w.change));
  copy.put(obj, key, text, 'str');
  copy.commit(message, time);
  const change = copy.getLastLocalChange();
  copy.free();
  assert.ok(change !== null && change !== undefined);
  return change;
}

function init(self: string, seed: number, sharedStates: SharedDocStates | undefined): ClusterDocInit {
  return { cluster: 'site-a', self, clock: new ManualClock(), random: new SeededRandom(seed), logger: new RecordingLogger(), ...(sharedStates === undefined ? {} : { docHandles: sharedStates }) };
}

function member(name: string, incarnation = 0): Omit<Member, 'id'> {
  return { name, addresses: [], facts: { cpus: 2, memoryMB: 2048, diskGB: 16, arch: 'amd64' }, labels: {}, joinedAt: 1_000, leftAt: null, incarnation };
}

describe('encodeRecordPut (a record write encoded beside a shared document)', () => {
  it('makes byte-for-byte the change Automerge would commit: new keys, conflicting values, chains and the own-previous-change dependency', () => {
    const { doc, roles } = base();
    // Two actors write the same key concurrently: a conflict a put must supersede entirely.
    const concurrent = [1, 2].map((n) => {
      const fork = doc.fork(ACTOR(n));
      fork.put(roles, 'n1', `v${n}`, 'str');
      fork.commit('concurrent', 1);
      return fork.getLastLocalChange() as Uint8Array;
    });
    doc.applyChanges(concurrent);
    assert.equal(doc.getAll(roles, 'n1').length, 2, 'the key holds two conflicting values');

    const actor = ACTOR(9);
    const pending: PendingWrite[] = [];
    const steps: [string, string][] = [['n1', 'a'], ['n2', 'b'], ['n1', 'c'], ['n1', 'd']];
    let previous: string | undefined;
    for (const [i, [key, text]] of steps.entries()) {
      const heads = headsAfter(doc.getHeads().slice().sort(), pending);
      const expected = committed(doc, actor, pending, roles, key, text, `write ${i}`, 7);
      const write = encodeRecordPut(doc, pending, { actor, seq: i + 1, previous, time: 7, message: `write ${i}`, heads, obj: roles, map: 'roles', key, text });
      assert.deepEqual(Buffer.from(write.change), Buffer.from(expected), `write ${i} (${key}=${text})`);
      pending.push(write);
      previous = write.hash;
    }

    // Someone else writes on top of the pending chain's first change only: the next put's heads
    // no longer include this actor's last change, which Automerge still adds as a dependency.
    const other = doc.fork(ACTOR(3));
    other.applyChanges(pending.map((w) => w.change));
    other.put(roles, 'n3', 'x', 'str');
    other.commit('other', 8);
    const mine = doc.fork(actor);
    mine.applyChanges([...pending.map((w) => w.change), other.getLastLocalChange() as Uint8Array]);
    const heads = mine.getHeads().slice().sort();
    assert.ok(!heads.includes(previous as string), 'the actor\'s last change is no head');
    const expected = committed(mine, actor, [], roles, 'n2', 'e', 'after', 9);
    const write = encodeRecordPut(mine, [], { actor, seq: steps.length + 1, previous, time: 9, message: 'after', heads, obj: roles, map: 'roles', key: 'n2', text: 'e' });
    assert.deepEqual(Buffer.from(write.change), Buffer.from(expected));
  });

  it('names the heads after a chain of writes', () => {
    const { doc, roles } = base();
    const start = doc.getHeads().slice().sort();
    const first = encodeRecordPut(doc, [], { actor: ACTOR(1), seq: 1, previous: undefined, time: 1, message: 'm', heads: start, obj: roles, map: 'roles', key: 'k', text: '1' });
    const second = encodeRecordPut(doc, [first], { actor: ACTOR(1), seq: 2, previous: first.hash, time: 1, message: 'm', heads: [first.hash], obj: roles, map: 'roles', key: 'k', text: '2' });
    assert.deepEqual(headsAfter(start, [first, second]), [second.hash]);
    doc.applyChanges([first.change, second.change]);
    assert.deepEqual(doc.getHeads(), [second.hash]);
  });
});

describe('ClusterDoc with pending writes', () => {
  it('saves its pending writes with the shared content, and a reload holds them', () => {
    const states = new SharedDocStates();
    const a = ClusterDoc.create(init('a', 1, states));
    a.writeOwnMember(member('a'));
    a.writeOwnRole({ role: 'worker', phase: 'ready' });
    const reloaded = ClusterDoc.load(a.save(), init('a', 2, undefined));
    assert.equal(reloaded.contentKey(), a.contentKey());
    assert.equal(reloaded.roles().a?.role, 'worker');
    assert.equal(reloaded.member('a')?.name, 'a');
  });

  it('puts its pending writes into a sync session and keeps them through a refused batch', () => {
    const states = new SharedDocStates();
    const a = ClusterDoc.create(init('a', 1, states));
    const b = ClusterDoc.create(init('b', 2, states));
    const change = (() => {
      let out: Uint8Array | undefined;
      const off = b.onChange((e) => (out = e.change));
      b.writeOwnMember(member('b'));
      off();
      return out as Uint8Array;
    })();
    a.writeOwnMember(member('a'));
    const before = a.contentKey();
    const damaged = Uint8Array.from(change);
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] as number) ^ 0xff;
    assert.throws(() => a.applyChanges([damaged]), { name: 'ChangeRejectedError' });
    assert.equal(a.contentKey(), before, 'the refused batch changed nothing, the pending write is still there');
    assert.equal(a.member('a')?.name, 'a');

    syncDocs(a, b);
    assert.deepEqual(a.members().map((m) => m.id), ['a', 'b']);
    assert.equal(a.contentKey(), b.contentKey());
  });

  it('reaches the content other nodes built when the gossip it applies brings its own write back', () => {
    const states = new SharedDocStates();
    const [a, b, c] = ['a', 'b', 'c'].map((id, i) => ClusterDoc.create(init(id, i + 1, states))) as [ClusterDoc, ClusterDoc, ClusterDoc];
    const changes: Uint8Array[] = [];
    for (const d of [a, b, c]) {
      const off = d.onChange((e) => e.change && changes.push(e.change));
      d.writeOwnRole({ role: 'worker', phase: 'ready' });
      off();
    }
    b.applyChanges(changes.filter((_, i) => i !== 1));
    const forks = states.stats().forks;
    a.applyChanges(changes); // its own change comes back in the batch (a relay); applied once
    c.applyChanges(changes.filter((_, i) => i !== 2));
    assert.equal(states.stats().forks, forks, 'a and c moved to the content b built');
    assert.equal(a.contentKey(), b.contentKey());
    assert.equal(c.contentKey(), b.contentKey());
    assert.deepEqual(Object.keys(a.roles()), ['a', 'b', 'c']);
  });
});
