import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SystemRandom } from '../../src/seams/system-random.js';

describe('SystemRandom', () => {
  it('draws floats in [0, 1) and ints within their bound, including above 2^48', () => {
    const r = new SystemRandom();
    for (let i = 0; i < 1_000; i++) {
      const f = r.float();
      assert.ok(f >= 0 && f < 1);
      assert.ok(r.int(10) < 10);
    }
    for (const bound of [1, 2 ** 48, 2 ** 48 + 1, Number.MAX_SAFE_INTEGER]) {
      const v = r.int(bound);
      assert.ok(Number.isInteger(v) && v >= 0 && v < bound);
    }
    assert.throws(() => r.int(0), RangeError);
  });

  it('returns plain Uint8Arrays of the requested length', () => {
    const b = new SystemRandom().bytes(17);
    assert.equal(b.length, 17);
    assert.equal(Object.getPrototypeOf(b), Uint8Array.prototype);
  });

  it('forks into another SystemRandom', () => {
    assert.ok(new SystemRandom().fork('x') instanceof SystemRandom);
  });
});
