import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeDriver, NoQuorumError } from '../../simulations/harness/fake-driver.js';
import { Scheduler } from '../../simulations/harness/scheduler.js';
import { Trace } from '../../simulations/harness/trace.js';
import { capture, rejection } from './support/fleet.js';

describe('FakeDriver', () => {
  it('records each ensure with virtual start and finish times', async () => {
    const s = new Scheduler({ startMs: 100 });
    const trace = new Trace({ clock: s.clock });
    const driver = new FakeDriver({ clock: s.clock, node: 'n1', durationMs: 250, trace });
    const done = driver.ensure('manager', {});
    await s.runUntilIdle();
    await done;
    assert.deepEqual(driver.actions, [{ kind: 'ensure', role: 'manager', startedAt: 100, finishedAt: 350, outcome: 'ok' }]);
    assert.equal(driver.role, 'manager');
    assert.deepEqual(
      trace.events().map((e) => [e.time, e.node, e.kind, e.details['role']]),
      [[350, 'n1', 'driver:ensure', 'manager']],
    );
  });

  it('fails on demand: the next N calls, then by rule, with an InjectedDriverFailure', async () => {
    const s = new Scheduler();
    const driver = new FakeDriver({ clock: s.clock });
    driver.failNext(2, 'etcd unreachable').failWhen((call) => (call.kind === 'ensure' && call.role === 'worker' ? 'no workers today' : undefined));
    const outcomes: string[] = [];
    for (const role of ['manager', 'manager', 'manager', 'worker'] as const) {
      const r = await capture(driver.ensure(role, {}));
      outcomes.push(r.status === 'fulfilled' ? 'ok' : `${rejection(r).name}: ${rejection(r).message}`);
    }
    assert.deepEqual(outcomes, [
      'InjectedDriverFailure: ensure manager: etcd unreachable',
      'InjectedDriverFailure: ensure manager: etcd unreachable',
      'ok',
      'InjectedDriverFailure: ensure worker: no workers today',
    ]);
    assert.equal(driver.role, 'manager', 'a failed ensure does not change the role');
    driver.failWhen(undefined);
    await driver.ensure('worker', {});
    assert.equal(driver.role, 'worker');
  });

  it('stops waiting when the signal aborts, and records it', async () => {
    const s = new Scheduler();
    const driver = new FakeDriver({ clock: s.clock, durationMs: 1_000 });
    const controller = new AbortController();
    const pending = capture(driver.ensure('manager', { signal: controller.signal }));
    await s.runUntil(400);
    controller.abort(new Error('assignment changed'));
    assert.match(rejection(await pending).message, /assignment changed/);
    assert.deepEqual(driver.actions, [{ kind: 'ensure', role: 'manager', startedAt: 0, finishedAt: 400, outcome: 'aborted' }]);
    assert.equal(driver.role, undefined);
  });

  it('answers control-plane changes with the member list after the change, and can fail them', async () => {
    const s = new Scheduler();
    const driver = new FakeDriver({ clock: s.clock });
    assert.deepEqual(await driver.changeControlPlane({ kind: 'bootstrap', node: 'a', actor: 'a' }, [], {}), ['a']);
    assert.deepEqual(await driver.changeControlPlane({ kind: 'promote', node: 'b', actor: 'b' }, ['a'], {}), ['a', 'b']);
    driver.failWhen((call) => (call.kind === 'control-plane' && call.change.kind === 'remove' ? 'quorum lost' : undefined));
    const failed = await capture(driver.changeControlPlane({ kind: 'remove', node: 'a', actor: 'b' }, ['a', 'b'], {}));
    assert.equal(rejection(failed).message, 'remove a: quorum lost');
    assert.deepEqual(
      driver.actions.map((a) => [a.kind, a.outcome]),
      [['control-plane', 'ok'], ['control-plane', 'ok'], ['control-plane', 'failed']],
    );
  });

  it("keeps member data on the node's disk: a manager role holds only with it, and a membership change needs a quorum serving", async () => {
    const s = new Scheduler();
    const disk = { memberData: false };
    let serving = 1;
    const driver = new FakeDriver({ clock: s.clock, node: 'b', disk, serving: () => serving });
    assert.equal(await driver.holdsSeat(), false);
    await driver.ensure('manager+worker', {});
    assert.equal(driver.role, 'worker', 'nothing to start for the seat without member data');
    // [a, c] with only a serving: no quorum of two for adding b.
    const refused = await capture(driver.changeControlPlane({ kind: 'promote', node: 'b', actor: 'b' }, ['a', 'c'], {}));
    assert.ok(rejection(refused) instanceof NoQuorumError);
    assert.equal(rejection(refused).message, 'promote b: 1 of 2 control-plane members serve: no quorum for a membership change');
    assert.equal(disk.memberData, false);
    serving = 2;
    assert.deepEqual(await driver.changeControlPlane({ kind: 'promote', node: 'b', actor: 'b' }, ['a', 'c'], {}), ['a', 'b', 'c']);
    assert.equal(await driver.holdsSeat(), true);
    await driver.ensure('manager+worker', {});
    assert.equal(driver.role, 'manager+worker');
    await driver.changeControlPlane({ kind: 'demote', node: 'b', actor: 'b' }, ['a', 'b', 'c'], {});
    assert.equal(disk.memberData, false);
    assert.deepEqual(driver.actions.filter((a) => a.kind === 'control-plane').map((a) => a.outcome), ['failed', 'ok', 'ok']);
    // Without a disk nothing is modelled: every manager role holds.
    assert.equal(await new FakeDriver({ clock: s.clock }).holdsSeat(), true);
  });
});
