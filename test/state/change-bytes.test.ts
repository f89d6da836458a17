import assert from 'node:assert/strict';
import * as Automerge from '@automerge/automerge';
import { describe, it } from 'node:test';
import { changeHeader, documentChunkHeads, splitChunks, verifyChange, verifySyncMessage } from '../../src/state/change-bytes.js';

/** Two consecutive genuine changes by one actor. */
function twoChanges(): [Uint8Array, Uint8Array, string[]] {
  let doc = Automerge.init<Record<string, number>>({ actor: 'aa'.repeat(16) });
  doc = Automerge.change(doc, { time: 0 }, (d) => {
    d['a'] = 1;
  });
  const first = Automerge.getLastLocalChange(doc);
  doc = Automerge.change(doc, { time: 0 }, (d) => {
    d['b'] = 2;
  });
  const second = Automerge.getLastLocalChange(doc);
  assert.ok(first !== undefined && second !== undefined);
  return [first, second, Automerge.getHeads(doc)];
}

function syncMessageWith(entry: Uint8Array, heads: string[]): Uint8Array {
  return Automerge.encodeSyncMessage({ heads, need: [], have: [], changes: [entry] });
}

void describe('change bytes in sync messages', () => {
  void it('accepts an entry holding several change chunks back to back (as Automerge 3 sends them)', () => {
    const [a, b, heads] = twoChanges();
    const both = Uint8Array.from(Buffer.concat([a, b]));
    assert.deepEqual(splitChunks(both).map((c) => c.length), [a.length, b.length]);
    assert.doesNotThrow(() => verifySyncMessage(syncMessageWith(both, heads)));
  });

  void it('rejects a bad checksum in the second chunk of an entry', () => {
    const [a, b, heads] = twoChanges();
    const bad = b.slice();
    bad[5] = (bad[5] ?? 0) ^ 0xff;
    assert.throws(() => verifySyncMessage(syncMessageWith(Uint8Array.from(Buffer.concat([a, bad])), heads)), { name: 'ChangeRejectedError', reason: 'bad-checksum' });
  });

  void it('rejects a chunk cut short or followed by stray bytes as undecodable', () => {
    const [a, b] = twoChanges();
    const both = Uint8Array.from(Buffer.concat([a, b]));
    assert.throws(() => splitChunks(both.subarray(0, both.length - 1)), { name: 'ChangeRejectedError', reason: 'undecodable' });
    assert.throws(() => splitChunks(Uint8Array.from(Buffer.concat([both, Buffer.from([1, 2, 3])]))), { name: 'ChangeRejectedError', reason: 'undecodable' });
  });
});

void describe('change headers', () => {
  void it('reads the dependencies and the author as Automerge decodes them', () => {
    const [first, second] = twoChanges();
    for (const change of [first, second]) {
      const decoded = Automerge.decodeChange(change);
      assert.deepEqual(changeHeader(change), { deps: decoded.deps, actor: decoded.actor });
    }
  });

  void it('is undefined for a change cut off inside its header', () => {
    const [, second] = twoChanges();
    assert.equal(changeHeader(second.subarray(0, 12)), undefined);
    assert.equal(changeHeader(second.subarray(0, 9 + 2 + 1 + 32 + 3)), undefined);
  });
});

void describe('verified changes (remembered by their bytes)', () => {
  void it('answers a copy of a verified change from memory, and still refuses a change that only claims its checksum', () => {
    const [change] = twoChanges();
    const hash = Automerge.decodeChange(change).hash;
    assert.equal(verifyChange(change), hash);
    assert.equal(verifyChange(Uint8Array.from(change)), hash, 'a copy: same bytes, same hash');
    // Same length and the same claimed checksum, one body byte different.
    const forged = Uint8Array.from(change);
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 0x01;
    assert.throws(() => verifyChange(forged), { name: 'ChangeRejectedError', reason: 'bad-checksum' });
    // Mutating the caller's array after verifying does not change what is remembered.
    const mine = Uint8Array.from(change);
    assert.equal(verifyChange(mine), hash);
    mine[mine.length - 1] = (mine[mine.length - 1] as number) ^ 0x01;
    assert.throws(() => verifyChange(mine), { name: 'ChangeRejectedError' });
    assert.deepEqual(changeHeader(Uint8Array.from(change)), changeHeader(change));
  });
});

void describe('whole documents in sync messages', () => {
  void it('reads the heads of the document a first answer carries, and nothing from other entries', () => {
    let doc = Automerge.from<Record<string, number>>({ a: 1 }, { actor: 'aa'.repeat(16) });
    doc = Automerge.merge(doc, Automerge.change(Automerge.clone(doc, { actor: 'bb'.repeat(16) }), (d) => void (d['b'] = 2)));
    doc = Automerge.merge(doc, Automerge.change(Automerge.clone(doc, { actor: 'cc'.repeat(16) }), (d) => void (d['c'] = 3)));
    const [, request] = Automerge.generateSyncMessage(Automerge.init(), Automerge.initSyncState());
    const [, state] = Automerge.receiveSyncMessage(doc, Automerge.initSyncState(), request as Uint8Array);
    const [, answer] = Automerge.generateSyncMessage(doc, state);
    const entries = verifySyncMessage(answer as Uint8Array);
    assert.equal(entries.length, 1);
    assert.deepEqual(documentChunkHeads(entries[0] as Uint8Array), Automerge.getHeads(doc).slice().sort());
    const [change] = twoChanges();
    assert.equal(documentChunkHeads(change), undefined, 'a change chunk is not a document');
    const whole = entries[0] as Uint8Array;
    assert.equal(documentChunkHeads(whole.subarray(0, whole.length - 1)), undefined, 'a chunk cut short');
    assert.equal(documentChunkHeads(Uint8Array.from([...whole, 0])), undefined, 'stray bytes after the chunk');
    assert.equal(documentChunkHeads(Uint8Array.from([0, ...whole.subarray(1)])), undefined, 'no magic');
  });
});
