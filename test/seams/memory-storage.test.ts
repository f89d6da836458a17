import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from '../../src/seams/memory-storage.js';
import { StorageNameError } from '../../src/seams/storage.js';

describe('MemoryStorage', () => {
  it('copies bytes in and out, so callers cannot change what is stored', async () => {
    const storage = new MemoryStorage();
    const data = new Uint8Array([1, 2, 3]);
    await storage.write('doc', data);
    data[0] = 99;
    const read = await storage.read('doc');
    assert.deepEqual(read, new Uint8Array([1, 2, 3]));
    if (read !== undefined) read[1] = 99;
    assert.deepEqual(await storage.read('doc'), new Uint8Array([1, 2, 3]));
    const snap = storage.snapshot();
    snap.get('doc')?.fill(0);
    snap.delete('doc');
    assert.deepEqual(storage.snapshot(), new Map([['doc', new Uint8Array([1, 2, 3])]]));
  });

  it('stores a plain copy of a Buffer', async () => {
    const storage = new MemoryStorage();
    await storage.write('doc', Buffer.from('abc'));
    assert.deepEqual(await storage.read('doc'), new Uint8Array([97, 98, 99]));
  });

  it('reads undefined for a missing name; lists sorted; renames and removes', async () => {
    const storage = new MemoryStorage();
    assert.equal(await storage.read('x'), undefined);
    await storage.write('b', new Uint8Array([1]));
    await storage.write('a', new Uint8Array([2]));
    assert.deepEqual(await storage.list(), ['a', 'b']);
    await storage.rename('b', 'c');
    assert.deepEqual(await storage.list(), ['a', 'c']);
    await storage.remove('a');
    await storage.remove('a');
    assert.deepEqual(await storage.list(), ['c']);
    await assert.rejects(storage.rename('missing', 'other'), { code: 'ENOENT' });
  });

  it('rejects the same names FileStorage rejects', async () => {
    const storage = new MemoryStorage();
    for (const bad of ['', '..', 'a/b', 'doc.tmp-1-2']) {
      await assert.rejects(storage.write(bad, new Uint8Array()), StorageNameError, bad);
    }
  });
});
