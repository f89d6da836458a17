import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SystemClock } from '../../src/seams/system-clock.js';

describe('SystemClock', () => {
  it('fires a timer and lets sleep resolve', async () => {
    const clock = new SystemClock();
    const fired = await new Promise<boolean>((resolve) => clock.setTimer(1, () => resolve(true)));
    assert.equal(fired, true);
    await clock.sleep(1);
  });

  it('never fires a cancelled timer', async () => {
    const clock = new SystemClock();
    let fired = false;
    clock.setTimer(0, () => (fired = true)).cancel();
    // A later timer fires after the cancelled one would have (timers run in due-time order),
    // so this is not a timing assumption.
    await clock.sleep(5);
    assert.equal(fired, false);
  });

  it('with unrefTimers, still fires timers while something else keeps the process alive', async () => {
    const unref = new SystemClock({ unrefTimers: true });
    const fired = new Promise<void>((resolve) => unref.setTimer(1, resolve));
    // An unref'd timer alone would let the event loop exit; a ref'd sleep keeps it running.
    await new SystemClock().sleep(20);
    await fired;
  });

  it('sleep rejects with the abort reason', async () => {
    const clock = new SystemClock();
    const controller = new AbortController();
    const slept = clock.sleep(60_000, { signal: controller.signal });
    controller.abort(new Error('stop'));
    await assert.rejects(slept, /stop/);
  });
});
