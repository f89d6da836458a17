import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, Trace } from '../../simulations/harness/trace.js';

const clockAt = (time: { now: number }) => ({ now: () => time.now });

describe('Trace', () => {
  it('serializes objects with sorted keys, so insertion order does not matter', () => {
    assert.equal(canonicalJson({ b: 1, a: [true, null, 'x', { d: 2, c: 1 }] }), '{"a":[true,null,"x",{"c":1,"d":2}],"b":1}');
    assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  });

  it('rejects values with no canonical text', () => {
    assert.throws(() => canonicalJson(Number.NaN), TypeError);
    assert.throws(() => canonicalJson({ a: Number.POSITIVE_INFINITY }), TypeError);
  });

  it('hashes equal event sequences equally and any difference differently', () => {
    const time = { now: 0 };
    const make = (kinds: string[], details: Record<string, number>[]): string => {
      const t = new Trace({ clock: clockAt(time) });
      kinds.forEach((k, i) => t.record('n1', k, details[i] ?? {}));
      return t.hash();
    };
    const base = make(['a', 'b'], [{ x: 1, y: 2 }, {}]);
    assert.equal(make(['a', 'b'], [{ y: 2, x: 1 }, {}]), base);
    assert.notEqual(make(['b', 'a'], [{}, { x: 1, y: 2 }]), base);
    assert.notEqual(make(['a', 'b'], [{ x: 1, y: 3 }, {}]), base);
    assert.match(base, /^[0-9a-f]{64}$/);
  });

  it('includes the time and node, and keeps hashing after hash()', () => {
    const time = { now: 5 };
    const t1 = new Trace({ clock: clockAt(time) });
    const t2 = new Trace({ clock: clockAt(time) });
    t1.record('n1', 'k');
    t2.record('n2', 'k');
    assert.notEqual(t1.hash(), t2.hash());
    const before = t1.hash();
    time.now = 6;
    t1.record('n1', 'k');
    assert.notEqual(t1.hash(), before);
    assert.equal(t1.length, 2);
  });

  it('retains only the last N events but hashes all of them', () => {
    const time = { now: 0 };
    const small = new Trace({ clock: clockAt(time), retain: 3 });
    const all = new Trace({ clock: clockAt(time), retain: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 10; i++) {
      time.now = i;
      small.record('n', 'tick', { i });
      all.record('n', 'tick', { i });
    }
    assert.deepEqual(
      small.events().map((e) => e.details['i']),
      [7, 8, 9],
    );
    assert.equal(all.events().length, 10);
    assert.equal(small.hash(), all.hash());
  });
});
