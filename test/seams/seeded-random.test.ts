import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shuffled } from '../../src/seams/random.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';

const draws = (r: SeededRandom, n = 8): number[] => Array.from({ length: n }, () => r.int(1_000_000));

describe('SeededRandom', () => {
  it('gives the same stream for the same seed', () => {
    assert.deepEqual(draws(new SeededRandom('abc')), draws(new SeededRandom('abc')));
    assert.deepEqual(new SeededRandom(7).bytes(33), new SeededRandom(7).bytes(33));
  });

  it('treats a number, its string and its bigint as the same seed', () => {
    const expected = draws(new SeededRandom(42));
    assert.deepEqual(draws(new SeededRandom('42')), expected);
    assert.deepEqual(draws(new SeededRandom(42n)), expected);
  });

  it('gives different streams for nearby seeds', () => {
    assert.notDeepEqual(draws(new SeededRandom(1)), draws(new SeededRandom(2)));
  });

  it('exposes the seed and a replay recipe', () => {
    const child = new SeededRandom(99).fork('node-3').fork('mesh');
    assert.equal(child.seed, 99);
    assert.deepEqual(child.labels, ['node-3', 'mesh']);
    assert.equal(child.toString(), '99/node-3/mesh');
    assert.deepEqual(draws(new SeededRandom(99, ['node-3', 'mesh'])), draws(child));
  });

  it('derives forks from the seed and label, not from the parent position or fork order', () => {
    const a = new SeededRandom('s');
    const aX = a.fork('x');
    const aY = a.fork('y');
    const b = new SeededRandom('s');
    draws(b, 100); // move the parent on
    const bY = b.fork('y');
    const bX = b.fork('x');
    assert.deepEqual(draws(bX), draws(aX));
    assert.deepEqual(draws(bY), draws(aY));
  });

  it('gives forks streams independent of each other and of the parent', () => {
    const root = new SeededRandom('s');
    const x = draws(root.fork('x'));
    assert.notDeepEqual(x, draws(root.fork('y')));
    assert.notDeepEqual(x, draws(new SeededRandom('s')));
    // Path encoding is unambiguous: ('a/b') is not ('a', 'b').
    assert.notDeepEqual(draws(root.fork('a/b')), draws(root.fork('a').fork('b')));
  });

  it('keeps float in [0, 1) with a mean near 1/2', () => {
    const r = new SeededRandom(3);
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const f = r.float();
      assert.ok(f >= 0 && f < 1);
      sum += f;
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.01);
  });

  it('draws int uniformly (chi-square with a fixed seed)', () => {
    // 3 does not divide 2^32, so plain modulo would be biased; with 60k draws and 2 degrees
    // of freedom, chi-square above 13.8 happens with p = 0.001 for a uniform source.
    for (const bound of [3, 7, 10]) {
      const r = new SeededRandom(`chi-${bound}`);
      const counts = new Array<number>(bound).fill(0);
      const n = 60_000;
      for (let i = 0; i < n; i++) {
        const v = r.int(bound);
        assert.ok(Number.isInteger(v) && v >= 0 && v < bound);
        counts[v] = (counts[v] ?? 0) + 1;
      }
      const expected = n / bound;
      const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
      // 99.9th percentile of chi-square for bound-1 degrees of freedom, rounded up.
      const critical = { 3: 13.9, 7: 22.5, 10: 27.9 }[bound] ?? 0;
      assert.ok(chi2 < critical, `bound ${bound}: chi2 ${chi2.toFixed(2)} >= ${critical}`);
    }
  });

  it('handles bounds of 1, 2^32 and above 2^32', () => {
    const r = new SeededRandom(5);
    assert.equal(r.int(1), 0);
    for (const bound of [2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) {
      const v = r.int(bound);
      assert.ok(Number.isInteger(v) && v >= 0 && v < bound);
    }
  });

  it('rejects bounds that are not positive safe integers', () => {
    const r = new SeededRandom(5);
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53]) assert.throws(() => r.int(bad), RangeError);
  });

  it('returns bytes of the requested length, including lengths not a multiple of 4', () => {
    const r = new SeededRandom(9);
    for (const length of [0, 1, 3, 4, 5, 64]) assert.equal(r.bytes(length).length, length);
    assert.throws(() => r.bytes(-1), RangeError);
    assert.ok(r.bytes(64).some((b) => b !== 0));
  });

  it('drives shuffled reproducibly', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const once = shuffled(new SeededRandom('shuffle'), items);
    assert.deepEqual(shuffled(new SeededRandom('shuffle'), items), once);
    assert.deepEqual([...once].sort((a, b) => a - b), items);
  });
});
