import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterDoc, type ClusterDocInit, type PeerSyncState } from '../../src/state/cluster-doc.js';
import { SharedDocStates } from '../../simulations/harness/shared-doc-states.js';
import { verifyChange } from '../../src/state/change-bytes.js';
import type { Member } from '../../src/state/schema.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { syncDocs } from '../support/sync-docs.js';

function init(self: string, seed: number, sharedStates: SharedDocStates | undefined): ClusterDocInit {
  return { cluster: 'site-a', self, clock: new ManualClock(), random: new SeededRandom(seed), logger: new RecordingLogger(), ...(sharedStates === undefined ? {} : { docHandles: sharedStates }) };
}

function member(name: string, incarnation = 0): Omit<Member, 'id'> {
  return { name, addresses: [], facts: { cpus: 2, memoryMB: 2048, diskGB: 16, arch: 'amd64' }, labels: {}, joinedAt: 1_000, leftAt: null, incarnation };
}

/** Writes through `write` and returns the change it emitted. */
function changeOf(doc: ClusterDoc, write: () => boolean): Uint8Array {
  let change: Uint8Array | undefined;
  const off = doc.onChange((e) => {
    change = e.change;
  });
  assert.equal(write(), true);
  off();
  assert.ok(change !== undefined, 'a local write emits its change');
  return change;
}

function hashOf(change: Uint8Array): string {
  return verifyChange(change);
}

/** Three documents sharing handles; `a` wrote two member records, the second depending on the first. */
function twoWritesByA(): { states: SharedDocStates; a: ClusterDoc; b: ClusterDoc; c: ClusterDoc; first: Uint8Array; second: Uint8Array } {
  const states = new SharedDocStates();
  const a = ClusterDoc.create(init('a', 1, states));
  const b = ClusterDoc.create(init('b', 2, states));
  const c = ClusterDoc.create(init('c', 3, states));
  const first = changeOf(a, () => a.writeOwnMember(member('a')));
  const second = changeOf(a, () => a.writeOwnMember(member('a', 1)));
  return { states, a, b, c, first, second };
}

function ids(doc: ClusterDoc): string[] {
  return doc.members().map((m) => m.id);
}

describe('SharedDocStates with ClusterDoc (copy-on-write document handles)', () => {
  it('lets documents that reach the same content share one handle, and a record writer keep its write beside it', () => {
    const states = new SharedDocStates();
    const a = ClusterDoc.create(init('a', 1, states));
    const b = ClusterDoc.create(init('b', 2, states));
    const c = ClusterDoc.create(init('c', 3, states));
    assert.equal(states.stats().stored, 1, 'the three genesis documents are one stored content');

    const fromA = changeOf(a, () => a.writeOwnMember(member('a')));
    assert.equal(states.stats().forks, 0, 'a record write copies nothing: it is pending beside the shared genesis');
    assert.deepEqual(ids(a), ['a'], 'the writer reads its pending write');
    b.applyChanges([fromA]);
    assert.equal(states.stats().forks, 1, 'b built the content with a\'s change on a copy of genesis');
    c.applyChanges([fromA]);
    assert.equal(states.stats().hits, 1, 'c moved to the content b built without applying');
    assert.equal(b.contentKey(), a.contentKey(), 'the pending write names the same heads');
    assert.deepEqual(ids(b), ['a']);

    // b writes: its copy changes, nobody else's does.
    const fromB = changeOf(b, () => b.writeOwnMember(member('b')));
    assert.deepEqual(ids(b), ['a', 'b']);
    assert.deepEqual(ids(a), ['a']);
    assert.deepEqual(ids(c), ['a']);
    a.applyChanges([fromB]);
    assert.deepEqual(ids(a), ['a', 'b']);
    assert.equal(a.contentKey(), b.contentKey());
    // What a shared document saves loads back to the same content.
    const reloaded = ClusterDoc.load(a.save(), init('r', 4, undefined));
    assert.equal(reloaded.contentKey(), a.contentKey());
    assert.deepEqual(ids(reloaded), ['a', 'b']);
  });

  it('writes in place when the writer is the only holder of its handle', () => {
    const states = new SharedDocStates();
    const a = ClusterDoc.create(init('a', 1, states));
    a.writeOwnMember(member('a'));
    const forks = states.stats().forks;
    a.writeOwnMember(member('a', 1));
    a.writeOwnMember(member('a', 2));
    assert.equal(states.stats().forks, forks, 'no copy: nobody else holds it');
    assert.equal(a.member('a')?.incarnation, 2);
  });

  it('keeps sharing a handle while a received change waits beside it for a missing dependency', () => {
    const { states, a, b, c, first, second } = twoWritesByA();
    const forks = states.stats().forks;
    b.applyChanges([second]);
    assert.deepEqual(b.missingDeps(), [hashOf(first)], 'the second change waits for the first');
    assert.equal(b.waitingCount(), 1);
    assert.deepEqual(ids(b), []);
    assert.equal(b.contentKey(), c.contentKey(), 'b holds what its heads name: the genesis, shared with c');
    assert.equal(states.stats().forks, forks, 'no private copy for the waiting change');
    b.applyChanges([first]);
    assert.deepEqual(b.missingDeps(), []);
    assert.equal(b.waitingCount(), 0);
    assert.equal(b.contentKey(), a.contentKey());
    assert.equal(b.member('a')?.incarnation, 1);
  });

  it('applies a waiting change once a sync session brings its dependency', () => {
    const { a, b, c, first, second } = twoWritesByA();
    c.applyChanges([first]);
    b.applyChanges([second]);
    assert.equal(b.waitingCount(), 1);
    syncDocs(b, c);
    assert.equal(b.waitingCount(), 0, 'the change that waited went in after the sync message completed it');
    assert.deepEqual(b.missingDeps(), []);
    assert.equal(b.contentKey(), a.contentKey());
    assert.equal(b.member('a')?.incarnation, 1);
  });

  it('applies a batch whose changes depend on each other by moving to the stored result', () => {
    const states = new SharedDocStates();
    const a = ClusterDoc.create(init('a', 1, states));
    const b = ClusterDoc.create(init('b', 2, states));
    const c = ClusterDoc.create(init('c', 3, states));
    const batch = [changeOf(a, () => a.writeOwnMember(member('a'))), changeOf(a, () => a.writeOwnRole({ role: 'worker', phase: 'ready' }))];
    b.applyChanges(batch);
    const hits = states.stats().hits;
    c.applyChanges([...batch].reverse());
    assert.equal(states.stats().hits, hits + 1);
    assert.equal(c.roles().a?.role, 'worker');
    assert.equal(c.contentKey(), a.contentKey());
  });

  it('refuses a damaged change and leaves a shared document as it was', () => {
    const states = new SharedDocStates();
    const a = ClusterDoc.create(init('a', 1, states));
    const b = ClusterDoc.create(init('b', 2, states));
    const change = changeOf(a, () => a.writeOwnMember(member('a')));
    const before = b.contentKey();
    const damaged = Uint8Array.from(change);
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] as number) ^ 0xff;
    assert.throws(() => b.applyChanges([damaged]), { name: 'ChangeRejectedError' });
    assert.equal(b.contentKey(), before);
    b.applyChanges([change]);
    assert.deepEqual(ids(b), ['a']);
  });

  it('syncs shared documents with the sync protocol to the same content', () => {
    const states = new SharedDocStates();
    const docs = ['a', 'b', 'c'].map((id, i) => ClusterDoc.create(init(id, i + 1, states)));
    for (const d of docs) d.writeOwnMember(member(d.self));
    const [a, b, c] = docs as [ClusterDoc, ClusterDoc, ClusterDoc];
    syncDocs(a, b);
    syncDocs(b, c);
    syncDocs(a, c);
    for (const d of docs) assert.deepEqual(ids(d), ['a', 'b', 'c']);
    assert.equal(a.contentKey(), c.contentKey());
    assert.equal(b.contentKey(), c.contentKey());
    assert.equal(states.stats().held, 1, 'the converged documents hold one handle between them');
  });

  it('holds exactly what unshared documents hold through random writes, gossip and sync sessions', () => {
    for (const seed of [1, 2, 3]) {
      const states = new SharedDocStates(4);
      const names = ['a', 'b', 'c', 'd', 'e'];
      // Same seeds: the same actor ids and clocks, so both fleets make byte-identical changes.
      const shared = names.map((id, i) => ClusterDoc.create(init(id, seed * 10 + i, states)));
      const plain = names.map((id, i) => ClusterDoc.create(init(id, seed * 10 + i, undefined)));
      const random = new SeededRandom(seed);
      const sessions = new Map<string, [PeerSyncState, PeerSyncState]>();
      const stateFor = (fleet: string, x: ClusterDoc, y: ClusterDoc): [PeerSyncState, PeerSyncState] => {
        const key = `${fleet}:${x.self}:${y.self}`;
        const pair = sessions.get(key) ?? ([x.newSyncState(), y.newSyncState()] as [PeerSyncState, PeerSyncState]);
        sessions.set(key, pair);
        return pair;
      };
      for (let step = 0; step < 120; step++) {
        const x = random.int(names.length);
        const y = (x + 1 + random.int(names.length - 1)) % names.length;
        const op = random.int(3);
        for (const [fleetName, fleet] of [['shared', shared], ['plain', plain]] as const) {
          const dx = fleet[x] as ClusterDoc;
          const dy = fleet[y] as ClusterDoc;
          if (op === 0) {
            // x writes and gossips the change to y and the node after y.
            const change = changeOf(dx, () => dx.writeOwnMember(member(dx.self, step)));
            dy.applyChanges([change]);
            const dz = fleet[(y + 1) % names.length] as ClusterDoc;
            if (dz !== dx) dz.applyChanges([change]);
          } else if (op === 1) {
            dx.writeOwnRole({ role: step % 2 === 0 ? 'worker' : 'manager', phase: `p${step}` });
          } else {
            // One sync session (kept per pair, as a replicator keeps sync states).
            syncDocs(dx, dy, stateFor(fleetName, dx, dy));
          }
        }
        for (let i = 0; i < names.length; i++) {
          const a = shared[i] as ClusterDoc;
          const b = plain[i] as ClusterDoc;
          assert.equal(a.contentKey(), b.contentKey(), `seed ${seed} step ${step}: ${names[i]} differs from its unshared twin`);
          assert.deepEqual(a.members(), b.members());
          assert.deepEqual(a.roles(), b.roles());
        }
      }
      const { hits, deduplicated, adoptions } = states.stats();
      assert.ok(hits + deduplicated > 0, 'some documents came to share a content (the comparison is not between unshared documents only)');
      assert.ok(adoptions > 0, "some sync sessions took a whole document in as a copy of the sender's stored content");
    }
  });

  it("takes a whole document sent by sync in as a copy of the sender's stored content, plus its own changes", () => {
    const states = new SharedDocStates();
    const [a, b, c] = ['a', 'b', 'c'].map((id, i) => ClusterDoc.create(init(id, i + 1, states))) as [ClusterDoc, ClusterDoc, ClusterDoc];
    for (const d of [a, b, c]) d.writeOwnMember(member(d.self));
    syncDocs(a, b);
    syncDocs(a, c);
    const newcomer = ClusterDoc.create(init('n', 5, states));
    newcomer.writeOwnMember(member('n'));
    const twin = ClusterDoc.create(init('n', 5, undefined));
    twin.writeOwnMember(member('n'));
    const sender = a.newSyncState();
    const [receiver, twinReceiver] = [newcomer.newSyncState(), twin.newSyncState()];
    // The newcomer speaks first; the sender answers a peer it shares no heads with with its whole document.
    a.receiveSyncMessage(sender, newcomer.generateSyncMessage(receiver) as Uint8Array);
    const whole = a.generateSyncMessage(sender) as Uint8Array;
    const adoptedBefore = states.stats().adoptions;
    newcomer.receiveSyncMessage(receiver, whole);
    twin.receiveSyncMessage(twinReceiver, whole);
    assert.equal(states.stats().adoptions, adoptedBefore + 1);
    assert.deepEqual(ids(newcomer), ['a', 'b', 'c', 'n']);
    assert.equal(newcomer.contentKey(), twin.contentKey(), 'the same content as loading the document sent');
    assert.deepEqual(newcomer.members(), twin.members());
    // The session goes on from the copy as from the loaded document.
    syncDocs(a, newcomer, [sender, receiver]);
    assert.equal(a.contentKey(), newcomer.contentKey());
  });
});
