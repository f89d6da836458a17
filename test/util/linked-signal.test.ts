import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { linkedSignal } from '../../src/util/linked-signal.js';

describe('linkedSignal', () => {
  it('aborts with the reason of whichever source aborts first', () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkedSignal([a.signal, b.signal]);
    assert.equal(linked.signal.aborted, false);
    b.abort(new Error('b went first'));
    a.abort(new Error('a after'));
    assert.equal(linked.signal.aborted, true);
    assert.equal((linked.signal.reason as Error).message, 'b went first');
  });

  it('starts aborted when a source already is', () => {
    const done = AbortSignal.abort(new Error('over already'));
    const linked = linkedSignal([new AbortController().signal, done]);
    assert.equal(linked.signal.aborted, true);
    assert.equal((linked.signal.reason as Error).message, 'over already');
    linked.dispose();
  });

  it('leaves no listener on a long-lived source once disposed, or once it fired', () => {
    const lifetime = new AbortController();
    for (let i = 0; i < 100; i++) {
      const deadline = new AbortController();
      const linked = linkedSignal([deadline.signal, lifetime.signal]);
      assert.equal(getEventListeners(lifetime.signal, 'abort').length, 1);
      if (i % 2 === 0) deadline.abort(new Error('deadline'));
      linked.dispose();
      linked.dispose();
      assert.equal(getEventListeners(lifetime.signal, 'abort').length, 0, 'the lifetime signal holds nothing of a finished request');
      assert.equal(getEventListeners(deadline.signal, 'abort').length, 0);
    }
    const deadline = new AbortController();
    const linked = linkedSignal([deadline.signal, lifetime.signal]);
    linked.dispose();
    lifetime.abort(new Error('stopped'));
    assert.equal(linked.signal.aborted, false, 'a disposed signal no longer follows its sources');
  });
});
