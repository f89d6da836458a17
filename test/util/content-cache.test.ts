import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContentCache, deepFreeze } from '../../src/util/content-cache.js';

void describe('ContentCache', () => {
  void it('computes once per key and returns the cached value after', () => {
    const cache = new ContentCache<{ n: number }>(4);
    let computed = 0;
    const a = cache.getOrCompute('k', () => ({ n: ++computed }));
    const b = cache.getOrCompute('k', () => ({ n: ++computed }));
    assert.equal(computed, 1);
    assert.equal(a, b);
  });

  void it('evicts the least recently used entry beyond its capacity', () => {
    const cache = new ContentCache<string>(2);
    cache.getOrCompute('a', () => 'A');
    cache.getOrCompute('b', () => 'B');
    assert.equal(cache.get('a'), 'A'); // a is now more recent than b
    cache.getOrCompute('c', () => 'C');
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 'A');
    assert.equal(cache.get('c'), 'C');
  });

  void it('peeks without making an entry more recent', () => {
    const cache = new ContentCache<string>(2);
    cache.getOrCompute('a', () => 'A');
    cache.getOrCompute('b', () => 'B');
    assert.equal(cache.peek('a'), 'A');
    assert.equal(cache.peek('zz'), undefined);
    cache.getOrCompute('c', () => 'C');
    assert.equal(cache.peek('a'), undefined, 'a stayed the least recent, so it went first');
    assert.equal(cache.peek('b'), 'B');
  });

  void it('keeps an entry used within the last half capacity of insertions, and lets one unused that long go first', () => {
    const cache = new ContentCache<number>(8);
    for (let i = 0; i < 8; i++) cache.getOrCompute(`k${i}`, () => i);
    // k0 is the oldest; used now, it becomes the most recent.
    assert.equal(cache.get('k0'), 0);
    for (let i = 8; i < 15; i++) {
      cache.getOrCompute(`k${i}`, () => i);
      assert.equal(cache.get('k0'), 0, `k0, used after every insertion, stays (insertion ${i})`);
    }
    assert.equal(cache.size, 8);
    assert.equal(cache.peek('k1'), undefined, 'entries never used again went first');
    for (let i = 15; i < 23; i++) cache.getOrCompute(`k${i}`, () => i);
    assert.equal(cache.peek('k0'), undefined, 'unused for a whole capacity of insertions, k0 went too');
  });

  void it('refuses a capacity that is not a positive integer', () => {
    assert.throws(() => new ContentCache(0), RangeError);
    assert.throws(() => new ContentCache(1.5), RangeError);
  });
});

void describe('deepFreeze', () => {
  void it('freezes nested objects and arrays so a shared value cannot be changed by one reader', () => {
    const value = deepFreeze({ list: [{ x: 1 }], map: { y: { z: 2 } } });
    assert.ok(Object.isFrozen(value.list[0]) && Object.isFrozen(value.map.y));
    assert.throws(() => {
      (value.map.y as { z: number }).z = 3;
    }, TypeError);
  });
});
