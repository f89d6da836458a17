import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeControlPlane } from '../../simulations/harness/fake-control-plane.js';
import { brokenSoftware, ControlPlaneSoftwareError, FakeDriver, NoQuorumError, type FakeDriverDisk } from '../../simulations/harness/fake-driver.js';
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

  it('brokenSoftware fails the calls it names; an ensure only of a manager role, whose workload part still runs', async () => {
    const s = new Scheduler();
    const driver = new FakeDriver({ clock: s.clock }).failWhen(brokenSoftware(['ensure', 'promote'], 'read-only file system'));
    const outcome = async (call: Promise<unknown>): Promise<string> => {
      const r = await capture(call);
      return r.status === 'fulfilled' ? 'ok' : rejection(r).message;
    };
    assert.deepEqual(
      [
        await outcome(driver.ensure('worker', {})),
        await outcome(driver.ensure('manager+worker', {})),
        await outcome(driver.changeControlPlane({ kind: 'promote', node: 'x', actor: 'x' }, ['a'], {})),
        await outcome(driver.changeControlPlane({ kind: 'remove', node: 'a', actor: 'x' }, ['a', 'x'], {})),
      ],
      ['ok', 'ensure manager+worker: read-only file system', 'promote x: read-only file system', 'ok'],
    );
    assert.equal(driver.role, 'worker');
  });

  describe('with the control-plane software modelled', () => {
    /** Three nodes' drivers on one FakeControlPlane, each with its own disk. */
    function cluster(ids: readonly string[]) {
      const s = new Scheduler();
      const controlPlane = new FakeControlPlane();
      const disks = new Map<string, FakeDriverDisk>(ids.map((id) => [id, { memberData: false }]));
      const software = { controlPlane, diskOf: (id: string) => disks.get(id) };
      const drivers = new Map(ids.map((id) => [id, new FakeDriver({ clock: s.clock, node: id, disk: disks.get(id)!, software })]));
      return { controlPlane, disks, driver: (id: string) => drivers.get(id)! };
    }

    it("changes the cluster's own member list and answers with it", async () => {
      const { controlPlane, disks, driver } = cluster(['a', 'b', 'c']);
      assert.deepEqual(await driver('a').changeControlPlane({ kind: 'bootstrap', node: 'a', actor: 'a' }, [], {}), ['a']);
      assert.deepEqual(disks.get('a'), { memberData: true, cluster: 1 });
      // What the cluster lists, not what the caller believed: c was never added.
      assert.deepEqual(await driver('b').changeControlPlane({ kind: 'promote', node: 'b', actor: 'b' }, ['a', 'c'], {}), ['a', 'b']);
      assert.deepEqual(await driver('c').changeControlPlane({ kind: 'promote', node: 'c', actor: 'c' }, ['a', 'b'], {}), ['a', 'b', 'c']);
      assert.deepEqual(await driver('a').changeControlPlane({ kind: 'remove', node: 'c', actor: 'a' }, ['a', 'b', 'c'], {}), ['a', 'b']);
      assert.deepEqual(await driver('b').changeControlPlane({ kind: 'demote', node: 'b', actor: 'b' }, ['a', 'b'], {}), ['a']);
      assert.deepEqual(controlPlane.members(1), ['a']);
      assert.deepEqual(disks.get('b'), { memberData: false });
      assert.deepEqual(disks.get('c'), { memberData: true, cluster: 1 }, 'a removed member keeps its data until it starts on it');
    });

    it('a member removed while it was away fails its manager role once, its data moved aside, and rejoins through promote', async () => {
      const { controlPlane, disks, driver } = cluster(['a', 'b', 'c']);
      await driver('a').changeControlPlane({ kind: 'bootstrap', node: 'a', actor: 'a' }, [], {});
      await driver('b').changeControlPlane({ kind: 'promote', node: 'b', actor: 'b' }, ['a'], {});
      await driver('c').changeControlPlane({ kind: 'promote', node: 'c', actor: 'c' }, ['a', 'b'], {});
      await driver('a').changeControlPlane({ kind: 'remove', node: 'c', actor: 'a' }, ['a', 'b', 'c'], {});
      const failed = await capture(driver('c').ensure('manager+worker', {}));
      assert.ok(rejection(failed) instanceof ControlPlaneSoftwareError);
      assert.match(rejection(failed).message, /removed from the cluster while it was away; its data was moved aside/);
      assert.equal(driver('c').role, undefined, 'a failed call changes nothing');
      assert.deepEqual(disks.get('c'), { memberData: false });
      assert.equal(await driver('c').holdsSeat(), false);
      assert.deepEqual(driver('c').actions.map((a) => [a.kind, a.outcome]), [['control-plane', 'ok'], ['ensure', 'failed']]);
      assert.deepEqual(await driver('c').changeControlPlane({ kind: 'promote', node: 'c', actor: 'c' }, ['a', 'b'], {}), ['a', 'b', 'c']);
      await driver('c').ensure('manager+worker', {});
      assert.equal(driver('c').role, 'manager+worker');
      assert.deepEqual(controlPlane.members(1), ['a', 'b', 'c']);
    });

    it('refuses a change it has no member to act through, and a bootstrap on the data of a cluster that removed the node', async () => {
      const { disks, driver } = cluster(['a', 'b', 'c']);
      const lonely = await capture(driver('b').changeControlPlane({ kind: 'promote', node: 'b', actor: 'b' }, ['a'], {}));
      assert.ok(rejection(lonely) instanceof ControlPlaneSoftwareError);
      assert.equal(rejection(lonely).message, 'promote b: no member of [a] holds member data of a cluster to act through');
      await driver('a').changeControlPlane({ kind: 'bootstrap', node: 'a', actor: 'a' }, [], {});
      await driver('b').changeControlPlane({ kind: 'promote', node: 'b', actor: 'b' }, ['a'], {});
      await driver('a').changeControlPlane({ kind: 'remove', node: 'b', actor: 'a' }, ['a', 'b'], {});
      const stale = await capture(driver('b').changeControlPlane({ kind: 'bootstrap', node: 'b', actor: 'b' }, [], {}));
      assert.equal(rejection(stale).message, "bootstrap b: this node's member data is of cluster 1, which removed it: etcd exits, and the data was moved aside");
      // As the etcd driver: the next bootstrap starts a new cluster.
      assert.deepEqual(await driver('b').changeControlPlane({ kind: 'bootstrap', node: 'b', actor: 'b' }, [], {}), ['b']);
      assert.deepEqual(disks.get('b'), { memberData: true, cluster: 2 });
    });

    it('keeps islands that bootstrapped apart as two clusters; a promote moves a node into the one its members hold', async () => {
      const { controlPlane, disks, driver } = cluster(['a', 'b', 'c']);
      await driver('a').changeControlPlane({ kind: 'bootstrap', node: 'a', actor: 'a' }, [], {});
      await driver('c').changeControlPlane({ kind: 'bootstrap', node: 'c', actor: 'c' }, [], {});
      await driver('b').changeControlPlane({ kind: 'promote', node: 'b', actor: 'b' }, ['c'], {});
      assert.deepEqual([controlPlane.members(1), controlPlane.members(2)], [['a'], ['b', 'c']]);
      // The record names [a] after the islands met: c joins a's cluster with fresh data.
      assert.deepEqual(await driver('c').changeControlPlane({ kind: 'promote', node: 'c', actor: 'c' }, ['a'], {}), ['a', 'c']);
      assert.deepEqual(disks.get('c'), { memberData: true, cluster: 1 });
    });
  });
});
