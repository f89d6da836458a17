import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackend, type Backend } from '../../src/state/automerge-backend.js';
import { changeHeader, verifyChange } from '../../src/state/change-bytes.js';
import { changeRef, headsDigestOf, MIN_REF_DEPS, rebuildChange } from '../../src/state/change-refs.js';

const ACTOR = (n: number): string => `ffff${String(n).padStart(28, '0')}`;

/** A document holding `width` concurrent changes on a common root: `width` heads. */
function wide(width: number): { doc: Backend; heads: string[] } {
  const root = createBackend(ACTOR(0));
  root.put('_root', 'root', 1);
  root.commit('root', 0);
  const changes: Uint8Array[] = [];
  for (let i = 1; i <= width; i++) {
    const writer = root.fork(ACTOR(i));
    writer.put('_root', `k${i}`, i);
    writer.commit(`write ${i}`, 0);
    changes.push(writer.getLastLocalChange() as Uint8Array);
    writer.free();
  }
  const doc = root.fork(ACTOR(9_999));
  doc.applyChanges(changes);
  return { doc, heads: doc.getHeads().slice().sort() };
}

/** The next change `doc` commits: its bytes, hash and dependencies. */
function commitOn(doc: Backend, key: string): { change: Uint8Array; hash: string; deps: readonly string[] } {
  doc.put('_root', key, 'value');
  doc.commit(`put ${key}`, 1);
  const change = doc.getLastLocalChange() as Uint8Array;
  return { change, hash: verifyChange(change), deps: changeHeader(change)?.deps ?? [] };
}

describe('change references', () => {
  it('rebuild the exact change from the heads it was written on', () => {
    const { doc, heads } = wide(MIN_REF_DEPS + 6);
    const { change, hash, deps } = commitOn(doc, 'x');
    assert.deepEqual([...deps], heads);
    const ref = changeRef(change, hash, deps, heads);
    assert.ok(ref !== undefined);
    assert.equal(ref.base, headsDigestOf(heads));
    assert.deepEqual(ref.extra, []);
    assert.ok(ref.rest.length + 32 * deps.length < change.length, 'the reference leaves the dependencies out');
    assert.deepEqual(rebuildChange(ref, heads), change);
    assert.deepEqual(rebuildChange(ref, heads), change, 'again, from the cache');
  });

  it('list the dependencies outside the heads and still rebuild; a change with few dependencies travels whole', () => {
    const { doc, heads } = wide(MIN_REF_DEPS + 2);
    const first = commitOn(doc, 'x');
    // Written on heads that leave one dependency out (as a writer's own previous change is).
    const ref = changeRef(first.change, first.hash, first.deps, heads.slice(1));
    assert.ok(ref !== undefined);
    assert.deepEqual(ref.extra, [heads[0]]);
    assert.deepEqual(rebuildChange(ref, heads.slice(1)), first.change);
    const next = commitOn(doc, 'y');
    assert.deepEqual([...next.deps], [first.hash]);
    assert.equal(changeRef(next.change, next.hash, next.deps, [first.hash]), undefined, 'one dependency: a reference would not pay');
  });

  it('refuse heads that are not all dependencies, and a rebuild on other heads', () => {
    const { doc, heads } = wide(MIN_REF_DEPS + 1);
    const { change, hash, deps } = commitOn(doc, 'x');
    assert.equal(changeRef(change, hash, deps, [...heads, 'ab'.repeat(32)]), undefined);
    const ref = changeRef(change, hash, deps, heads);
    assert.ok(ref !== undefined);
    // Heads other than the writer's (named by their own digest) rebuild other bytes.
    const other = heads.slice(1);
    assert.throws(() => rebuildChange({ ...ref, base: headsDigestOf(other) }, other), { name: 'ChangeRejectedError', reason: 'bad-checksum' });
    assert.throws(() => rebuildChange({ ...ref, base: headsDigestOf(other) }, heads), { name: 'ChangeRejectedError', reason: 'bad-checksum' }, 'heads that do not have the base digest');
    assert.throws(() => rebuildChange({ ...ref, rest: Uint8Array.from(ref.rest, (b, i) => (i === 3 ? b ^ 1 : b)) }, heads), { name: 'ChangeRejectedError', reason: 'bad-checksum' });
  });
});
