import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeClock } from '../../simulations/harness/node-clock.js';
import { Scheduler, SchedulerBusyError, SchedulerLimitError } from '../../simulations/harness/scheduler.js';

/** A chain of `depth` awaits, each on a fresh resolved promise. */
async function deepChain(depth: number): Promise<void> {
  for (let i = 0; i < depth; i++) await Promise.resolve();
}

describe('Scheduler', () => {
  it('fires events in (time, scheduling order) with now() at each event', async () => {
    const s = new Scheduler({ startMs: 1_000 });
    const fired: string[] = [];
    const at = (label: string) => () => fired.push(`${label}@${s.now()}`);
    s.clock.setTimer(20, at('b1'));
    s.clock.setTimer(10, at('a'));
    s.clock.setTimer(20, at('b2'));
    const result = await s.runUntilIdle();
    assert.deepEqual(fired, ['a@1010', 'b1@1020', 'b2@1020']);
    assert.deepEqual(result, { reason: 'idle', now: 1_020, events: 3 });
  });

  it('runs every continuation an event causes, however deep, before the next event', async () => {
    const s = new Scheduler();
    const log: string[] = [];
    s.clock.setTimer(10, () => {
      void (async () => {
        await deepChain(5_000);
        log.push(`chain done @${s.now()}`);
        // Scheduled from the continuation at the same instant: runs after the already queued event.
        s.clock.setTimer(0, () => log.push(`late @${s.now()}`));
      })();
    });
    s.clock.setTimer(10, () => log.push(`second @${s.now()}`));
    s.clock.setTimer(11, () => log.push(`third @${s.now()}`));
    await s.runUntilIdle();
    assert.deepEqual(log, ['chain done @10', 'second @10', 'late @10', 'third @11']);
  });

  it('resumes code after `await clock.sleep()` at the virtual time it woke', async () => {
    const s = new Scheduler();
    const woke: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await s.clock.sleep(100);
        woke.push(s.now());
      }
    })();
    await s.runUntil(250);
    assert.deepEqual(woke, [100, 200]);
    assert.equal(s.now(), 250);
    await s.runUntil(1_000);
    assert.deepEqual(woke, [100, 200, 300]);
    assert.equal(s.now(), 1_000);
  });

  it('runUntil(time) fires events scheduled inside the window and never moves the clock back', async () => {
    const s = new Scheduler();
    let count = 0;
    const tick = (): void => {
      count++;
      s.clock.setTimer(10, tick);
    };
    s.clock.setTimer(10, tick);
    const r = await s.runUntil(55);
    assert.deepEqual(r, { reason: 'time', now: 55, events: 5 });
    assert.equal(count, 5);
    await s.runUntil(10);
    assert.equal(s.now(), 55);
  });

  it('runUntil(predicate) stops as soon as it holds, at the deadline, or when idle', async () => {
    const s = new Scheduler();
    let n = 0;
    for (let t = 1; t <= 10; t++) s.clock.setTimer(t * 10, () => n++);
    assert.deepEqual(await s.runUntil(() => n >= 3, { deadlineMs: 1_000 }), { reason: 'predicate', now: 30, events: 3 });
    assert.deepEqual(await s.runUntil(() => n >= 100, { deadlineMs: 75 }), { reason: 'deadline', now: 75, events: 4 });
    assert.deepEqual(await s.runUntil(() => n >= 100, { deadlineMs: 10_000 }), { reason: 'idle', now: 100, events: 3 });
    // A predicate that already holds fires nothing.
    assert.deepEqual(await s.runUntil(() => true, { deadlineMs: 10_000 }), { reason: 'predicate', now: 100, events: 0 });
  });

  it('refuses a second run while one is in progress', async () => {
    const s = new Scheduler();
    s.clock.setTimer(10, () => undefined);
    const first = s.runUntilIdle();
    await assert.rejects(s.runUntil(5), SchedulerBusyError);
    await first;
  });

  it('throws SchedulerLimitError when a run never goes idle', async () => {
    const s = new Scheduler({ maxEventsPerRun: 100 });
    const tick = (): void => void s.clock.setTimer(1, tick);
    tick();
    await assert.rejects(s.runUntilIdle(), (err: Error) => err instanceof SchedulerLimitError && err.limit === 100);
  });

  it('propagates an event that throws and stays usable', async () => {
    const s = new Scheduler();
    s.clock.setTimer(5, () => {
      throw new Error('boom');
    });
    let later = false;
    s.clock.setTimer(6, () => (later = true));
    await assert.rejects(s.runUntilIdle(), /boom/);
    assert.equal(s.now(), 5);
    await s.runUntilIdle();
    assert.equal(later, true);
  });

  it('in the background, advances virtual time for code that awaits it directly', async () => {
    const s = new Scheduler();
    const stop = s.runInBackground();
    try {
      await s.clock.sleep(30_000);
      assert.equal(s.now(), 30_000);
      const woke: number[] = [];
      await Promise.all([s.clock.sleep(5).then(() => woke.push(s.now())), s.clock.sleep(3).then(() => woke.push(s.now()))]);
      assert.deepEqual(woke, [30_003, 30_005]);
      // An explicit run still works while the pump is on.
      s.clock.setTimer(10, () => undefined);
      assert.equal((await s.runUntil(30_100)).now, 30_100);
    } finally {
      await stop();
    }
  });

  it('step() fires exactly one event', async () => {
    const s = new Scheduler();
    let n = 0;
    s.clock.setTimer(1, () => n++);
    s.clock.setTimer(2, () => n++);
    assert.equal(await s.step(), true);
    assert.equal(n, 1);
    assert.equal(s.pendingEvents(), 1);
    assert.equal(await s.step(), true);
    assert.equal(await s.step(), false);
    assert.equal(s.eventsRun, 2);
  });
});

describe('NodeClock', () => {
  it('shares the fleet time and silences its own timers, and only its own, when halted', async () => {
    const s = new Scheduler();
    const a = new NodeClock(s);
    const b = new NodeClock(s);
    const fired: string[] = [];
    a.setTimer(10, () => fired.push('a'));
    b.setTimer(10, () => fired.push('b'));
    let slept = false;
    void a.sleep(20).then(() => (slept = true));
    assert.equal(a.pendingTimers(), 2);
    a.halt();
    assert.equal(a.halted, true);
    a.setTimer(1, () => fired.push('a-after-halt'));
    await s.runUntilIdle();
    assert.deepEqual(fired, ['b']);
    assert.equal(slept, false, 'a dead node never wakes');
    assert.equal(a.now(), s.now());
  });

  it('cancel() removes a timer from the view', async () => {
    const s = new Scheduler();
    const c = new NodeClock(s);
    let fired = false;
    const t = c.setTimer(5, () => (fired = true));
    t.cancel();
    t.cancel();
    assert.equal(c.pendingTimers(), 0);
    await s.runUntilIdle();
    assert.equal(fired, false);
  });
});
