import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConvergenceTracker } from '../../src/state/convergence.js';

void describe('ConvergenceTracker', () => {
  void it('is converged only when every reachable peer announced our heads', () => {
    const t = new ConvergenceTracker();
    assert.deepEqual(t.report(['h1'], []), { converged: true, peers: [] });
    t.observe('b', ['h2', 'h1']);
    t.observe('a', ['h1']);
    assert.deepEqual(t.report(['h1', 'h2'], ['b', 'a', 'c']), {
      converged: false,
      peers: [
        { peer: 'a', heads: ['h1'], sameAsMine: false },
        { peer: 'b', heads: ['h1', 'h2'], sameAsMine: true },
        { peer: 'c', heads: null, sameAsMine: false },
      ],
    });
    t.observe('a', ['h2', 'h1']);
    assert.equal(t.report(['h2', 'h1'], ['a', 'b']).converged, true);
  });

  void it('ignores unreachable peers and forgets peers that went down', () => {
    const t = new ConvergenceTracker();
    t.observe('a', ['h0']);
    assert.equal(t.report(['h1'], []).converged, true);
    t.forget('a');
    assert.equal(t.headsOf('a'), undefined);
    assert.deepEqual(t.report(['h1'], ['a']).peers, [{ peer: 'a', heads: null, sameAsMine: false }]);
  });
});
