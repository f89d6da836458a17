import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { closest, editDistance } from '../../src/config/suggest.js';

test('edit distance counts insertions, deletions, substitutions and transpositions', () => {
  assert.equal(editDistance('nodeName', 'nodeName'), 0);
  assert.equal(editDistance('nodeNmae', 'nodeName'), 1);
  assert.equal(editDistance('dataDr', 'dataDir'), 1);
  assert.equal(editDistance('', 'abc'), 3);
});

test('closest suggests near misses only', () => {
  assert.equal(closest('nodename', ['nodeName', 'clusterName']), 'nodeName');
  assert.equal(closest('xyz', ['nodeName', 'clusterName']), undefined);
  fc.assert(fc.property(fc.string(), fc.string(), (a, b) => editDistance(a, b) === editDistance(b, a)));
});
