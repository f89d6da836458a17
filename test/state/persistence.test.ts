import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterDoc, type ClusterDocInit } from '../../src/state/cluster-doc.js';
import { decodeSavedDoc, DOC_FILE, DocPersistence, encodeSavedDoc } from '../../src/state/persistence.js';
import type { Storage } from '../../src/seams/storage.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { MemoryStorage } from '../../src/seams/memory-storage.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { member, settle } from '../support/state-cluster.js';

class CountingStorage extends MemoryStorage {
  writes = 0;
  override write(name: string, data: Uint8Array): Promise<void> {
    this.writes++;
    return super.write(name, data);
  }
}

function setup(storage: Storage = new CountingStorage()): { clock: ManualClock; logger: RecordingLogger; persistence: DocPersistence; init: ClusterDocInit } {
  const clock = new ManualClock();
  const logger = new RecordingLogger();
  const persistence = new DocPersistence({ storage, clock, logger }, { debounceMs: 500 });
  return { clock, logger, persistence, init: { cluster: 'site-a', self: 'node-a', clock, random: new SeededRandom(1), logger } };
}

void describe('saved document file', () => {
  void it('round-trips and detects truncation, extension and bit flips', () => {
    const payload = ClusterDoc.create({ ...setup().init }).save();
    const file = encodeSavedDoc(payload);
    assert.deepEqual(decodeSavedDoc(file), payload);
    assert.throws(() => decodeSavedDoc(file.subarray(0, file.length - 1)), { name: 'DocumentLoadError', reason: 'bad-header' });
    assert.throws(() => decodeSavedDoc(file.subarray(0, 10)), { name: 'DocumentLoadError', reason: 'bad-header' });
    assert.throws(() => decodeSavedDoc(payload), { name: 'DocumentLoadError', reason: 'bad-header' });
    const flipped = file.slice();
    flipped[file.length - 3] = (flipped[file.length - 3] as number) ^ 0x10;
    assert.throws(() => decodeSavedDoc(flipped), { name: 'DocumentLoadError', reason: 'bad-checksum' });
  });
});

void describe('DocPersistence', () => {
  void it('starts from genesis when there is no file', async () => {
    const { persistence, init } = setup();
    const { doc, source } = await persistence.open(init);
    assert.equal(source, 'genesis');
    assert.deepEqual(doc.members(), []);
  });

  void it('debounces a burst of changes into one write and flushes on stop', async () => {
    const storage = new CountingStorage();
    const { clock, persistence, init } = setup(storage);
    const { doc } = await persistence.open(init);
    persistence.attach(doc);
    doc.writeOwnMember(member('node-a'));
    doc.writeOwnRole({ role: 'worker', phase: 'joining' });
    clock.advance(499);
    await settle();
    assert.equal(storage.writes, 0);
    doc.writeOwnRole({ role: 'worker', phase: 'ready' });
    clock.advance(1);
    await settle();
    assert.equal(storage.writes, 1);
    doc.writeOwnRole({ role: 'worker', phase: 'failed' });
    await persistence.stop();
    assert.equal(storage.writes, 2);
    const reopened = await setup(storage).persistence.open(init);
    assert.equal(reopened.source, 'saved');
    assert.deepEqual(reopened.doc.heads(), doc.heads());
    assert.equal(reopened.doc.roles()['node-a']?.phase, 'failed');
  });

  void it('moves a damaged or foreign file aside and starts from genesis', async () => {
    for (const bad of [Uint8Array.from([1, 2, 3]), encodeSavedDoc(Uint8Array.from([0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 0, 1])), encodeSavedDoc(ClusterDoc.create({ ...setup().init, cluster: 'site-b' }).save())]) {
      const storage = new MemoryStorage();
      await storage.write(DOC_FILE, bad);
      const { clock, logger, persistence, init } = setup(storage);
      const { doc, source } = await persistence.open(init);
      assert.equal(source, 'recovered-from-corruption');
      assert.deepEqual(doc.members(), []);
      assert.deepEqual(await storage.list(), [`${DOC_FILE}.corrupt-${clock.now()}`]);
      const line = logger.at('error')[0];
      assert.equal(line?.obj['movedTo'], `${DOC_FILE}.corrupt-${clock.now()}`);
    }
  });
});
