import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rendezvousRank } from '../../src/node/rendezvous.js';

const IDS = Array.from({ length: 50 }, (_, i) => `12D3KooW${String(i).padStart(4, '0')}`);

void describe('rendezvousRank', () => {
  void it('ranks a fleet as a permutation: exactly one node is first, every rank is used once', () => {
    const ranks = IDS.map((id) => rendezvousRank('down:node-x', id, IDS)).sort((a, b) => a - b);
    assert.deepEqual(ranks, IDS.map((_, i) => i));
  });

  void it('gives every node the same answer whatever order it lists the candidates in', () => {
    const reversed = [...IDS].reverse();
    for (const id of IDS) assert.equal(rendezvousRank('merge-heads', id, IDS), rendezvousRank('merge-heads', id, reversed));
  });

  void it('picks different first nodes for different keys (load is spread)', () => {
    const firsts = new Set<string>();
    for (let k = 0; k < 40; k++) firsts.add(IDS.find((id) => rendezvousRank(`down:${k}`, id, IDS) === 0)!);
    assert.ok(firsts.size >= 15, `only ${firsts.size} distinct first nodes over 40 keys`);
  });

  void it('does not count the node itself when it is among the candidates', () => {
    assert.equal(rendezvousRank('k', 'a', ['a']), 0);
    assert.equal(rendezvousRank('k', 'a', []), 0);
  });
});
