import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/seams/manual-clock.js';

describe('ManualClock', () => {
  it('starts at the given time and moves only when advanced', () => {
    const clock = new ManualClock(1_000);
    assert.equal(clock.now(), 1_000);
    clock.advance(250);
    assert.equal(clock.now(), 1_250);
  });

  it('fires due timers in due-time order, ties in scheduling order, with now() at each due time', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const at = (label: string) => () => fired.push(`${label}@${clock.now()}`);
    clock.setTimer(30, at('c'));
    clock.setTimer(10, at('a'));
    clock.setTimer(20, at('b1'));
    clock.setTimer(20, at('b2'));
    clock.setTimer(31, at('late'));
    clock.advance(30);
    assert.deepEqual(fired, ['a@10', 'b1@20', 'b2@20', 'c@30']);
    assert.equal(clock.now(), 30);
    assert.equal(clock.pendingTimers(), 1);
    assert.equal(clock.nextDueTime(), 31);
  });

  it('clamps negative delays to zero', () => {
    const clock = new ManualClock(5);
    let fired = false;
    clock.setTimer(-100, () => (fired = true));
    assert.equal(clock.nextDueTime(), 5);
    clock.advance(0);
    assert.equal(fired, true);
  });

  it('never fires a cancelled timer, and cancel is idempotent and safe after firing', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const t1 = clock.setTimer(10, () => fired.push(1));
    const t2 = clock.setTimer(20, () => fired.push(2));
    t1.cancel();
    t1.cancel();
    assert.equal(clock.pendingTimers(), 1);
    assert.equal(clock.nextDueTime(), 20);
    clock.advance(100);
    t2.cancel();
    assert.deepEqual(fired, [2]);
    assert.equal(clock.pendingTimers(), 0);
    assert.equal(clock.nextDueTime(), undefined);
  });

  it('lets a callback cancel a timer due at the same instant', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimer(10, () => {
      fired.push('first');
      second.cancel();
    });
    const second = clock.setTimer(10, () => fired.push('second'));
    clock.advance(10);
    assert.deepEqual(fired, ['first']);
  });

  it('fires timers scheduled by callbacks when they fall inside the advanced window', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimer(10, () => {
      fired.push(`outer@${clock.now()}`);
      clock.setTimer(5, () => fired.push(`inner@${clock.now()}`));
      clock.setTimer(0, () => fired.push(`zero@${clock.now()}`));
      clock.setTimer(50, () => fired.push(`outside@${clock.now()}`));
    });
    clock.advance(20);
    assert.deepEqual(fired, ['outer@10', 'zero@10', 'inner@15']);
    assert.equal(clock.now(), 20);
    assert.equal(clock.nextDueTime(), 60);
  });

  it('runNext fires exactly the next timer and moves time to it', () => {
    const clock = new ManualClock(100);
    const fired: number[] = [];
    clock.setTimer(7, () => fired.push(clock.now()));
    clock.setTimer(3, () => fired.push(clock.now()));
    assert.equal(clock.runNext(), true);
    assert.deepEqual(fired, [103]);
    assert.equal(clock.runNext(), true);
    assert.deepEqual(fired, [103, 107]);
    assert.equal(clock.runNext(), false);
    assert.equal(clock.now(), 107);
  });

  it('rejects a negative advance', () => {
    assert.throws(() => new ManualClock().advance(-1), RangeError);
  });

  it('orders 100k timers scheduled in scrambled order, skipping cancelled ones', () => {
    const clock = new ManualClock();
    const n = 100_000;
    let last = -1;
    let count = 0;
    let outOfOrder = 0;
    const timers = [];
    for (let i = 0; i < n; i++) {
      const due = (i * 7_919) % n; // a permutation of 0..n-1
      timers.push(
        clock.setTimer(due, () => {
          if (clock.now() < last) outOfOrder++;
          last = clock.now();
          count++;
        }),
      );
    }
    for (let i = 0; i < n; i += 2) timers[i]?.cancel();
    assert.equal(clock.pendingTimers(), n / 2);
    clock.advance(n);
    assert.equal(count, n / 2);
    assert.equal(outOfOrder, 0);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('sleep resolves when time reaches it', async () => {
    const clock = new ManualClock();
    let done = false;
    const slept = clock.sleep(50).then(() => (done = true));
    clock.advance(49);
    await Promise.resolve();
    assert.equal(done, false);
    clock.advance(1);
    await slept;
    assert.equal(done, true);
  });

  it('sleep rejects with the abort reason and leaves no timer behind', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const slept = clock.sleep(50, { signal: controller.signal });
    assert.equal(clock.pendingTimers(), 1);
    const reason = new Error('stop');
    controller.abort(reason);
    await assert.rejects(slept, (err) => err === reason);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('sleep with an already-aborted signal rejects without scheduling', async () => {
    const clock = new ManualClock();
    await assert.rejects(clock.sleep(10, { signal: AbortSignal.abort(new Error('early')) }), /early/);
    assert.equal(clock.pendingTimers(), 0);
  });
});
