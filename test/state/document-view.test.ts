import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend, loadBackend, putValue, type Backend } from '../../src/state/automerge-backend.js';
import { ClusterDoc, type ClusterDocInit } from '../../src/state/cluster-doc.js';
import { readView } from '../../src/state/document-view.js';
import type { JsonValue, Member } from '../../src/state/schema.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { RecordingLogger } from '../support/recording-logger.js';

function init(self: string, seed: number): ClusterDocInit {
  return { cluster: 'site-view', self, clock: new ManualClock(), random: new SeededRandom(seed), logger: new RecordingLogger() };
}

function memberRecord(name: string, zone: string, incarnation: number): Omit<Member, 'id'> {
  return { name, addresses: ['/ip4/10.0.0.1/tcp/4001'], facts: { cpus: 4, memoryMB: 8192, diskGB: 64, arch: 'arm64' }, labels: { zone }, joinedAt: 1_700_000_000_000, leftAt: null, incarnation };
}

/** What a fresh, full parse of `doc`'s saved bytes gives: the reference the incremental readers must match. */
function fullParse(doc: ClusterDoc): unknown {
  const backend = loadBackend(doc.save(), 'ff'.repeat(16));
  const view = readView(backend, doc.heads(), () => {});
  backend.free();
  return {
    members: [...view.members.keys()].sort().map((k) => view.members.get(k)),
    verdicts: Object.fromEntries([...view.verdicts.keys()].sort().map((k) => [k, view.verdicts.get(k)])),
    roles: Object.fromEntries([...view.roles.keys()].sort().map((k) => [k, view.roles.get(k)])),
    policy: view.policy,
    drivers: Object.fromEntries([...view.drivers.keys()].sort().map((d) => [d, view.drivers.get(d)])),
  };
}

function readers(doc: ClusterDoc): unknown {
  return {
    members: doc.members(),
    verdicts: doc.verdicts(),
    roles: doc.roles(),
    policy: doc.policy(),
    drivers: Object.fromEntries(doc.drivers().map((d) => [d, doc.driverRecords(d)])),
  };
}

/** A peer that writes anything anywhere, as a buggy or hostile node could: raw ops on a fork of `doc`. */
let foreignActors = 0;
function foreignChange(doc: ClusterDoc, write: (b: Backend, id: (name: string) => string) => void): Uint8Array | undefined {
  const b = loadBackend(doc.save(), (++foreignActors).toString(16).padStart(32, 'e'));
  const id = (name: string): string => (b.getWithType('_root', name) as [string, string])[1];
  write(b, id);
  b.commit('foreign', 0);
  const change = b.getLastLocalChange() ?? undefined;
  b.free();
  return change;
}

void describe('document view', () => {
  void it('the readers, advanced change by change, always equal a full parse — through in-place edits, deletes, conflicts and bad entries', () => {
    const random = new SeededRandom(42);
    const docs = ['node-a', 'node-b', 'node-c'].map((self, i) => ClusterDoc.create(init(self, i + 1)));
    const [a, b, c] = docs as [ClusterDoc, ClusterDoc, ClusterDoc];
    // Changes in flight: delivered some steps later, so writes are often concurrent.
    const inFlight: Array<{ change: Uint8Array; to: ClusterDoc }> = [];
    const everyone = (change: Uint8Array | undefined, except: ClusterDoc | undefined): void => {
      if (change === undefined) return;
      for (const d of docs) if (d !== except) inFlight.push({ change, to: d });
    };
    const deliver = (share: number): void => {
      for (let i = inFlight.length - 1; i >= 0; i--) {
        if (random.float() >= share) continue;
        const [{ change, to }] = inFlight.splice(i, 1) as [{ change: Uint8Array; to: ClusterDoc }];
        to.applyChanges([change]);
      }
    };
    for (const d of docs) d.onChange((e) => (e.origin === 'local' ? everyone(e.change, d) : undefined));
    for (const d of docs) d.writeOwnMember(memberRecord(d.self, 'a', 0));
    deliver(1);
    for (const d of docs) assert.deepEqual(readers(d), fullParse(d));

    const steps: Array<() => void> = [
      () => a.writeOwnMember(memberRecord('node-a', random.float() < 0.5 ? 'b' : 'c', Math.floor(random.float() * 10))),
      () => b.writeOwnRole({ role: random.float() < 0.5 ? 'manager' : 'worker', phase: 'ready' }),
      () => c.writeVerdict(random.float() < 0.5 ? 'node-a' : 'node-x', { status: 'down', incarnation: Math.floor(random.float() * 5) }),
      () => a.writeDriverRecord('etcd', `member-${Math.floor(random.float() * 3)}`, { peerUrl: `http://10.0.0.${Math.floor(random.float() * 9)}:2380` }),
      () => b.writePolicy({ yaml: `v: ${Math.floor(random.float() * 100)}`, name: 'p', version: Math.floor(random.float() * 100) + 1, signature: 'ab', signer: 'cd' }),
      // node-b's record as a nested Automerge map (schema 1's layout; a hostile or stale writer),
      // then edited in place: unreadable until node-b writes its record again.
      () => everyone(foreignChange(a, (raw, id) => putValue(raw, id('members'), 'node-b', memberRecord('node-b', 'x', 0) as unknown as JsonValue)), undefined),
      () => everyone(foreignChange(a, (raw, id) => {
        const rec = raw.getWithType(id('members'), 'node-b') as [string, string] | null;
        if (rec?.[0] !== 'map') return;
        const labels = raw.getWithType(rec[1], 'labels') as [string, string];
        raw.put(labels[1], 'zone', `z${Math.floor(random.float() * 9)}`, 'str');
      }), undefined),
      () => b.writeOwnMember(memberRecord('node-b', random.float() < 0.5 ? 'b' : 'c', 0)),
      // Records that do not fit: a wrong field, text that is not JSON; then their deletion.
      () => everyone(foreignChange(a, (raw, id) => raw.put(id('members'), 'node-bad', JSON.stringify({ name: 7 }), 'str')), undefined),
      () => everyone(foreignChange(a, (raw, id) => raw.put(id('roles'), 'node-bad', '{"role": "worker", ', 'str')), undefined),
      () => everyone(foreignChange(a, (raw, id) => raw.delete(id('roles'), 'node-bad')), undefined),
      () => everyone(foreignChange(a, (raw, id) => raw.delete(id('members'), 'node-bad')), undefined),
      () => everyone(foreignChange(a, (raw, id) => raw.delete(id('roles'), 'node-b')), undefined),
      // A driver's records replaced by a scalar, and back.
      () => everyone(foreignChange(a, (raw, id) => raw.put(id('drivers'), 'etcd', 'nonsense', 'str')), undefined),
    ];
    for (let i = 0; i < 300; i++) {
      (steps[Math.floor(random.float() * steps.length)] as () => void)();
      deliver(0.3);
      if (i % 10 === 0) for (const d of docs) d.mergeHeads();
      const d = docs[i % docs.length] as ClusterDoc;
      assert.deepEqual(readers(d), fullParse(d), `step ${i}`);
    }
    deliver(1);
    for (const d of docs) assert.deepEqual(readers(d), fullParse(d));
    assert.deepEqual(readers(a), readers(b));
    assert.deepEqual(readers(b), readers(c));
  });

  void it('a top-level map replaced as a whole is read again in full', () => {
    const a = ClusterDoc.create(init('node-a', 7));
    a.writeOwnMember(memberRecord('node-a', 'a', 0));
    a.writeOwnRole({ role: 'worker', phase: 'ready' });
    assert.equal(a.members().length, 1);
    a.applyChanges([foreignChange(a, (raw) => raw.putObject('_root', 'members', {})) as Uint8Array]);
    assert.deepEqual(a.members(), []);
    assert.deepEqual(readers(a), fullParse(a));
    a.applyChanges([foreignChange(a, (raw) => raw.put('_root', 'roles', 'x', 'str')) as Uint8Array]);
    assert.deepEqual(a.roles(), {});
    assert.deepEqual(readers(a), fullParse(a));
  });

  void it('writes plain data as the JS layer would: str scalars, int and f64 numbers, nested maps and lists', () => {
    const b = createBackend('aa'.repeat(16));
    putValue(b, '_root', 'x', { s: 'text', i: 3, f: 1.5, t: true, n: null, l: ['a', { k: 1 }] });
    b.commit('w', 0);
    const x = (b.getWithType('_root', 'x') as [string, string])[1];
    assert.deepEqual(b.getWithType(x, 's'), ['str', 'text']);
    assert.deepEqual(b.getWithType(x, 'i'), ['int', 3]);
    assert.deepEqual(b.getWithType(x, 'f'), ['f64', 1.5]);
    assert.deepEqual(b.materialize(x), { s: 'text', i: 3, f: 1.5, t: true, n: null, l: ['a', { k: 1 }] });
    b.free();
  });
});
