/**
 * A truncated document file on disk (FileStorage): the node starts anyway, sets the file aside
 * with an error line, keeps its identity (node.key is intact) and re-syncs the cluster's
 * document from its peers over libp2p (memory transport).
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Libp2pNode } from '../support/libp2p-node.js';
import { FileStorage } from '../../src/seams/file-storage.js';
import { DOC_FILE } from '../../src/state/persistence.js';
import { captureLogger } from '../support/capture-logger.js';
import { memoryNodeSpecs } from '../support/memory-fleet.js';
import { headsReport, labelOf, memberIds, relabel, sameHeads, startMemoryNode, stopAll } from '../support/replicated-fleet.js';
import { waitUntil } from '../support/wait.js';

const nodes: Libp2pNode[] = [];
let dir = '';
after(async () => {
  await stopAll(nodes);
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

void describe('a truncated document file (FileStorage, libp2p memory transport)', () => {
  void it('is set aside with a log line; the node starts, keeps its peer id and re-syncs from peers', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pace-truncated-'));
    const specs = await memoryNodeSpecs(3, 3501);
    const [first, ...rest] = specs;
    assert.ok(first !== undefined);
    const original = await startMemoryNode({ spec: first, peers: specs, name: 'fragile', storage: new FileStorage(dir) });
    const others = await Promise.all(rest.map((spec, i) => startMemoryNode({ spec, peers: specs, name: `n${i}` })));
    nodes.push(...others);
    for (const n of others) relabel(n, 'written', 'before');
    await waitUntil(() => sameHeads([original, ...others]) && memberIds(original).length === 3, 'initial convergence');
    await original.stop();

    const file = join(dir, DOC_FILE);
    const saved = await readFile(file);
    await writeFile(file, saved.subarray(0, Math.floor(saved.length / 2)));

    const { logger, lines } = captureLogger('info');
    const restarted = await startMemoryNode({ spec: first, peers: specs, name: 'fragile', storage: new FileStorage(dir), logger });
    nodes.push(restarted);
    assert.equal(restarted.self, original.self, 'node.key was intact: same peer id');
    assert.equal(restarted.source, 'recovered-from-corruption');
    const line = lines.find((l) => l.msg.includes('saved cluster document is damaged'));
    assert.ok(line !== undefined, `an error line names the damage: ${JSON.stringify(lines.map((l) => l.msg))}`);
    assert.equal(line.level, 50, 'logged at error level');
    assert.equal(line['file'], DOC_FILE);
    const aside = String(line['movedTo']);
    assert.match(aside, /^cluster\.automerge\.corrupt-\d+$/);
    assert.ok((await new FileStorage(dir).list()).includes(aside), 'the damaged file is kept for inspection');

    const everyone = [restarted, ...others];
    await waitUntil(() => sameHeads(everyone) && memberIds(restarted).length === 3, `the node re-syncs from its peers\n${headsReport(everyone)}`);
    for (const n of others) assert.equal(labelOf(restarted, n.self, 'written'), 'before', 'what peers wrote before is back');
    relabel(restarted, 'after', 'recovery');
    await waitUntil(() => others.every((n) => labelOf(n, restarted.self, 'after') === 'recovery') && sameHeads(everyone), 'its new writes replicate');
  });
});
