import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend } from '../../src/state/automerge-backend.js';
import { planBatch, type BatchChange } from '../../src/state/causal-batch.js';
import { ClusterDoc, type ClusterDocInit } from '../../src/state/cluster-doc.js';
import { genesis } from '../../src/state/genesis.js';
import { SharedDocStates } from '../../simulations/harness/shared-doc-states.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { RecordingLogger } from '../support/recording-logger.js';

/** A document holding `held` (hashes), asked which of some hashes it lacks. */
function holding(held: readonly string[]): (asked: string[]) => Set<string> {
  const set = new Set(held);
  return (asked) => new Set(asked.filter((h) => !set.has(h)));
}

const change = (hash: string, ...deps: string[]): BatchChange => ({ hash, deps });

describe('planBatch', () => {
  it('applies changes whose dependencies are held or in the batch, in any order of arrival', () => {
    const plan = planBatch(['g'], [change('c', 'b'), change('b', 'a'), change('a', 'g')], holding(['g']));
    assert.deepEqual([...plan.ready].sort(), ['a', 'b', 'c']);
    assert.deepEqual([...plan.waiting], []);
    assert.deepEqual(plan.heads, ['c']);
  });

  it('keeps a change that lacks a dependency outside the batch waiting, with all that builds on it', () => {
    const plan = planBatch(['g'], [change('b', 'a'), change('c', 'b'), change('x', 'g')], holding(['g']));
    assert.deepEqual([...plan.ready], ['x']);
    assert.deepEqual([...plan.waiting].sort(), ['b', 'c']);
    assert.deepEqual(plan.heads, ['x']);
  });

  it('ignores changes held already and reports no heads when nothing is ready', () => {
    const plan = planBatch(['a'], [change('a', 'g'), change('z', 'y')], holding(['g', 'a']));
    assert.deepEqual([...plan.ready], []);
    assert.deepEqual([...plan.waiting], ['z']);
    assert.equal(plan.heads, undefined);
  });

  it('merges concurrent heads: a change depending on both replaces them', () => {
    const plan = planBatch(['p', 'q'], [change('m', 'p', 'q'), change('r', 'q')], holding(['p', 'q']));
    assert.deepEqual(plan.heads, ['m', 'r']);
  });
});

function init(self: string, seed: number, sharedStates?: SharedDocStates): ClusterDocInit {
  return { cluster: 'site-a', self, clock: new ManualClock(), random: new SeededRandom(seed), logger: new RecordingLogger(), ...(sharedStates === undefined ? {} : { docHandles: sharedStates }) };
}

describe('ClusterDoc waiting changes against Automerge queueing them', () => {
  it('holds the same heads and reports the same missing dependencies after every delivery', () => {
    for (const seed of [1, 2, 3, 4]) {
      const random = new SeededRandom(seed);
      // Writers make a history with concurrent branches: each learns the others' changes now and then.
      const writers = ['a', 'b', 'c'].map((id, i) => ClusterDoc.create(init(id, seed * 10 + i)));
      const history: Uint8Array[] = [];
      for (const w of writers) w.onChange((e) => e.change !== undefined && history.push(e.change));
      for (let step = 0; step < 40; step++) {
        const w = writers[random.int(writers.length)] as ClusterDoc;
        // A prefix of the history is causally complete (a change is recorded after all it depends on).
        if (random.float() < 0.3 && history.length > 0) w.applyChanges(history.slice(0, 1 + random.int(history.length)));
        else w.writeOwnRole({ role: step % 2 === 0 ? 'worker' : 'manager', phase: `p${step}` });
      }
      // A reader gets the history shuffled, in batches; a raw Automerge document queues what waits.
      const order = history.map((c) => ({ c, k: random.float() })).sort((x, y) => x.k - y.k).map((x) => x.c);
      const reference = createBackend('00'.repeat(16));
      reference.applyChanges([genesis('site-a').change]);
      const states = new SharedDocStates();
      const readers = [ClusterDoc.create(init('r', seed * 10 + 5)), ClusterDoc.create(init('s', seed * 10 + 6, states))];
      let waited = 0;
      for (let at = 0; at < order.length; ) {
        const batch = order.slice(at, (at += 1 + random.int(4)));
        reference.applyChanges(batch);
        for (const reader of readers) {
          reader.applyChanges(batch);
          assert.deepEqual(reader.heads(), reference.getHeads().slice().sort(), `seed ${seed}, after ${at} changes: heads`);
          assert.deepEqual(reader.missingDeps(), reference.getMissingDeps([]).slice().sort(), `seed ${seed}, after ${at} changes: missing dependencies`);
          waited += reader.waitingCount();
        }
      }
      assert.ok(waited > 0, 'some changes arrived before their dependencies');
      const inOrder = ClusterDoc.create(init('o', seed * 10 + 7));
      inOrder.applyChanges(history);
      for (const reader of readers) {
        assert.equal(reader.waitingCount(), 0);
        assert.equal(reader.contentKey(), inOrder.contentKey());
        assert.deepEqual(reader.roles(), inOrder.roles());
      }
    }
  });
});

describe('ClusterDoc waiting changes in a refused batch', () => {
  it('are counted for the caller to sync, and the document is left as it was', () => {
    const writer = ClusterDoc.create(init('w', 1));
    const changes: Uint8Array[] = [];
    writer.onChange((e) => e.change !== undefined && changes.push(e.change));
    writer.writeOwnRole({ role: 'worker', phase: 'one' });
    writer.writeOwnRole({ role: 'worker', phase: 'two' });
    const [first, second] = changes as [Uint8Array, Uint8Array];
    // Two changes by one actor with the same sequence number: Automerge refuses the second.
    const actor = 'ab'.repeat(16);
    const twin = (value: string): Uint8Array => {
      const b = createBackend(actor);
      b.applyChanges([genesis('site-a').change]);
      b.put('_root', 'x', value);
      b.commit('twin', 0);
      const change = b.getLastLocalChange() as Uint8Array;
      b.free();
      return change;
    };
    const reader = ClusterDoc.create(init('r', 2));
    reader.applyChanges([twin('a')]);
    reader.applyChanges([second]);
    assert.equal(reader.waitingCount(), 1);
    const before = reader.contentKey();
    assert.throws(() => reader.applyChanges([first, twin('b')]), { name: 'ChangeRejectedError' });
    assert.equal(reader.contentKey(), before, 'nothing applied');
    assert.equal(reader.takeRefusedWaiting(), 1, 'the change that waited went down with the batch');
    assert.equal(reader.takeRefusedWaiting(), 0, 'reported once');
    reader.applyChanges([first]);
    assert.equal(reader.roles().w?.phase, 'one', 'the sound change alone applies; sync brings the other back');
  });
});
