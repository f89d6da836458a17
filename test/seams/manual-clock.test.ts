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

  it('fires in (due time, setting order) against a reference model through random sets, cancels and halts', () => {
    // A small LCG keeps the test reproducible without the seams it is testing.
    let state = 12345;
    const rand = (n: number): number => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state % n;
    };
    const clock = new ManualClock();
    const groups = [clock.group(), clock.group(), clock.group()];
    interface Model {
      due: number;
      seq: number;
      group: number | undefined;
      cancelled: boolean;
    }
    const model: Model[] = [];
    const halted = new Set<number>();
    const fired: number[] = [];
    const timers: { cancel(): void }[] = [];
    let seq = 0;
    const set = (delay: number): void => {
      const mine = seq++;
      const g = rand(4);
      const group = g < 3 ? g : undefined;
      const callback = (): void => {
        fired.push(mine);
        // Callbacks set timers too, some at the instant that is firing.
        if (rand(3) === 0) set(rand(2) === 0 ? 0 : rand(5) + 0.5);
      };
      timers.push(group === undefined ? clock.setTimer(delay, callback) : (groups[group] as ReturnType<ManualClock['group']>).setTimer(delay, callback));
      model.push({ due: clock.now() + delay, seq: mine, group, cancelled: group !== undefined && halted.has(group) });
    };
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 20; i++) set(rand(30));
      for (let i = 0; i < 5; i++) {
        const k = rand(timers.length);
        timers[k]?.cancel();
        const m = model[k] as Model;
        if (!fired.includes(m.seq)) m.cancelled = true;
      }
      if (round === 120) {
        groups[1]?.halt();
        halted.add(1);
      }
      clock.advance(rand(10));
    }
    clock.advance(1_000);
    const expected = model
      .filter((m) => !m.cancelled && !(m.group !== undefined && halted.has(m.group) && !fired.includes(m.seq)))
      .sort((a, b) => a.due - b.due || a.seq - b.seq)
      .map((m) => m.seq);
    assert.deepEqual(fired.slice().sort((a, b) => a - b), expected.slice().sort((a, b) => a - b), 'the same timers fired');
    // Within every advance window timers fire in (due, seq) order; over the whole run, too.
    const order = new Map(model.map((m) => [m.seq, m] as const));
    for (let i = 1; i < fired.length; i++) {
      const a = order.get(fired[i - 1] as number) as Model;
      const b = order.get(fired[i] as number) as Model;
      assert.ok(a.due < b.due || (a.due === b.due && a.seq < b.seq), `timer ${a.seq} (due ${a.due}) fired before ${b.seq} (due ${b.due})`);
    }
    assert.equal(clock.pendingTimers(), 0);
  });

  it('halts a timer group: its pending timers never fire and are counted out once, later ones are inert', () => {
    const clock = new ManualClock();
    const a = clock.group();
    const b = clock.group();
    const fired: string[] = [];
    const early = a.setTimer(5, () => fired.push('a1'));
    a.setTimer(10, () => fired.push('a2'));
    b.setTimer(10, () => fired.push('b'));
    clock.setTimer(10, () => fired.push('root'));
    clock.advance(5);
    assert.deepEqual(fired, ['a1']);
    early.cancel(); // fired already: no effect
    assert.equal(a.pendingTimers(), 1);
    assert.equal(clock.pendingTimers(), 3);
    a.halt();
    a.halt();
    assert.equal(a.halted, true);
    assert.equal(a.pendingTimers(), 0);
    assert.equal(clock.pendingTimers(), 2, 'the halted timer is no longer pending');
    a.setTimer(1, () => fired.push('a-after-halt')).cancel();
    assert.equal(clock.pendingTimers(), 2, 'a cancel after the halt counts nothing out again');
    clock.advance(100);
    assert.deepEqual(fired, ['a1', 'b', 'root']);
    assert.equal(clock.pendingTimers(), 0);
  });
});
