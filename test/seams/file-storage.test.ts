import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileStorage } from '../../src/seams/file-storage.js';
import { StorageNameError } from '../../src/seams/storage.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
/** A pid above Linux's maximum (2^22), so no process can have it. */
const DEAD_PID = 99_999_999;

describe('FileStorage', () => {
  let root: string;
  let n = 0;
  /** A fresh, not yet existing storage directory. */
  const freshDir = (): string => join(root, `store-${n++}`);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'pace-file-storage-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates its directory (0700) lazily and stores files with mode 0600', async () => {
    const dir = freshDir();
    const storage = new FileStorage(dir);
    await assert.rejects(stat(dir), { code: 'ENOENT' });
    await storage.write('node.key', bytes('secret'));
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'node.key'))).mode & 0o777, 0o600);
  });

  it('reads back what was written, and the latest write after an overwrite', async () => {
    const storage = new FileStorage(freshDir());
    await storage.write('doc', bytes('one'));
    assert.deepEqual(await storage.read('doc'), bytes('one'));
    await storage.write('doc', bytes('second version'));
    assert.deepEqual(await storage.read('doc'), bytes('second version'));
    await storage.write('empty', new Uint8Array());
    assert.deepEqual(await storage.read('empty'), new Uint8Array());
  });

  it('returns undefined for a missing name, even before the directory exists', async () => {
    assert.equal(await new FileStorage(freshDir()).read('nothing'), undefined);
  });

  it('leaves no temp files behind after writes', async () => {
    const dir = freshDir();
    const storage = new FileStorage(dir);
    await Promise.all([storage.write('a', bytes('1')), storage.write('a', bytes('2')), storage.write('b', bytes('3'))]);
    assert.deepEqual((await readdir(dir)).sort(), ['a', 'b']);
    assert.ok(['1', '2'].includes(new TextDecoder().decode(await storage.read('a'))));
  });

  it('lists stored names sorted, without temp files or directories', async () => {
    const dir = freshDir();
    const storage = new FileStorage(dir);
    await storage.write('b', bytes('b'));
    await storage.write('a', bytes('a'));
    // In-flight temp file of a live writer (this process): kept, but not listed.
    await writeFile(join(dir, `c.tmp-${process.pid}-7`), 'partial');
    await mkdir(join(dir, 'sub'));
    assert.deepEqual(await storage.list(), ['a', 'b']);
  });

  it('renames and removes; removing a missing name is not an error', async () => {
    const storage = new FileStorage(freshDir());
    await storage.write('doc', bytes('corrupt'));
    await storage.rename('doc', 'doc.corrupt');
    assert.equal(await storage.read('doc'), undefined);
    assert.deepEqual(await storage.read('doc.corrupt'), bytes('corrupt'));
    await storage.remove('doc.corrupt');
    await storage.remove('doc.corrupt');
    assert.deepEqual(await storage.list(), []);
    await assert.rejects(storage.rename('missing', 'other'), { code: 'ENOENT' });
  });

  it('deletes temp files left by a crashed writer on first use, keeping live writers\' ones', async () => {
    const dir = freshDir();
    await new FileStorage(dir).list(); // create the directory
    await writeFile(join(dir, 'doc'), 'old');
    await writeFile(join(dir, `doc.tmp-${DEAD_PID}-3`), 'half-writ');
    await writeFile(join(dir, `doc.tmp-${process.pid}-4`), 'in flight');
    const storage = new FileStorage(dir);
    assert.deepEqual(await storage.read('doc'), bytes('old'));
    assert.deepEqual((await readdir(dir)).sort(), ['doc', `doc.tmp-${process.pid}-4`]);
  });

  it('rejects names that could escape the directory or collide with temp files', async () => {
    const storage = new FileStorage(freshDir());
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a\\b', 'sp ace', `doc.tmp-1-2`]) {
      await assert.rejects(storage.write(bad, bytes('x')), StorageNameError, bad);
      await assert.rejects(storage.read(bad), StorageNameError, bad);
    }
    await assert.rejects(storage.rename('ok', '../escape'), StorageNameError);
    await assert.rejects(storage.remove('..'), StorageNameError);
  });
});
