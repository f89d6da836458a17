import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retransmitLimit, suspicionBounds } from '../../src/membership/timing.js';
import { Fleet } from './support/fleet.js';

describe('FailureDetector: liveness', () => {
  it('raises no suspicion among healthy nodes over many probe intervals', async () => {
    const fleet = new Fleet({ n: 8, seed: 11 });
    await fleet.run(200 * fleet.config.probeIntervalMs);
    assert.deepEqual(fleet.events, []);
    for (const id of fleet.ids) {
      const view = fleet.get(id).view();
      assert.ok(view.every((m) => m.status === 'alive' && m.incarnation === 0), `${id}: ${JSON.stringify(view)}`);
      assert.equal(fleet.get(id).stats().suspicionsRaised, 0);
    }
    fleet.stopAll();
  });

  it('declares a crashed node down on every other node within the bound computed from the config', async () => {
    const n = 8;
    const fleet = new Fleet({ n, seed: 7 });
    const { probeIntervalMs } = fleet.config;
    await fleet.run(5 * probeIntervalMs);
    const victim = 'node-003';
    const crashedAt = fleet.clock.now();
    fleet.crash(victim);
    // Bound: a node's randomized round-robin probes each member at least once per 2 (N - 1)
    // intervals; +1 interval for the direct and indirect probes; the longest (unconfirmed)
    // suspicion; and retransmitLimit intervals for the `down` claim to be piggybacked around.
    const { maxMs } = suspicionBounds(fleet.config, n);
    const bound = (2 * (n - 1) + 1 + retransmitLimit(fleet.config, n)) * probeIntervalMs + maxMs;
    const doneAt = await fleet.runUntil(() => fleet.viewsOf(victim, [victim]).every((s) => s === 'down'), bound);
    assert.ok(doneAt !== undefined, `not declared down everywhere within ${bound} ms: ${fleet.viewsOf(victim, [victim]).join(',')}`);
    const elapsed = doneAt - crashedAt;
    console.log(`# crash of 1/${n}: declared down everywhere after ${elapsed} ms (bound ${bound} ms)`);
    const verdicts = fleet.events.filter((e) => e.kind === 'verdict' && e.node === victim);
    assert.ok(verdicts.length >= 1 && verdicts.every((v) => v.kind === 'verdict' && v.status === 'down' && v.incarnation === 0));
    // Nobody else was accused.
    assert.deepEqual(fleet.events.filter((e) => e.node !== victim), []);
    fleet.stopAll();
  });
});

describe('FailureDetector: indirect probes and refutation', () => {
  it('does not suspect a node whose direct link from one prober is down while others reach it', async () => {
    const fleet = new Fleet({ n: 8, seed: 3 });
    fleet.network.cut('node-000', 'node-005');
    fleet.network.cut('node-002', 'node-006');
    await fleet.run(100 * fleet.config.probeIntervalMs);
    assert.deepEqual(fleet.events, []);
    const prober = fleet.get('node-000').stats();
    assert.ok(prober.indirectProbes > 0, 'the cut link forced indirect probes');
    assert.equal(prober.suspicionsRaised, 0);
    fleet.stopAll();
  });

  it('lets a briefly unreachable node refute its suspicion with a higher incarnation, and nobody declares it down', async () => {
    const fleet = new Fleet({ n: 8, seed: 5 });
    const target = 'node-004';
    const others = fleet.ids.filter((id) => id !== target);
    await fleet.run(3 * fleet.config.probeIntervalMs);
    fleet.network.partition([target], others);
    const suspectedAt = await fleet.runUntil(() => fleet.events.some((e) => e.kind === 'change' && e.node === target && e.status === 'suspect'), 20 * fleet.config.probeIntervalMs);
    assert.ok(suspectedAt !== undefined, 'someone suspected the isolated node');
    fleet.network.healLinks();
    await fleet.run(40 * fleet.config.probeIntervalMs);
    assert.equal(fleet.events.filter((e) => e.kind === 'verdict' && e.node === target && e.status === 'down').length, 0);
    const refutation = fleet.events.find((e) => e.kind === 'verdict' && e.node === target && e.status === 'alive');
    assert.ok(refutation !== undefined && refutation.kind === 'verdict');
    assert.equal(refutation.observer, target);
    assert.equal(refutation.refuted, 'suspect');
    const incarnation = fleet.get(target).incarnation;
    assert.ok(incarnation >= 1);
    for (const id of others) assert.deepEqual(fleet.get(id).status(target), { node: target, status: 'alive', incarnation });
    fleet.stopAll();
  });

  it('lets a restarted node (same id, fresh state) refute its down verdict by bumping its incarnation', async () => {
    const fleet = new Fleet({ n: 6, seed: 9 });
    const victim = 'node-002';
    await fleet.run(3 * fleet.config.probeIntervalMs);
    fleet.crash(victim);
    const downAt = await fleet.runUntil(() => fleet.viewsOf(victim, [victim]).every((s) => s === 'down'), 60 * fleet.config.probeIntervalMs);
    assert.ok(downAt !== undefined);
    await fleet.run(5 * fleet.config.probeIntervalMs);
    fleet.network.restore(victim);
    const reborn = fleet.boot(victim, 1);
    assert.equal(reborn.incarnation, 0);
    const aliveAt = await fleet.runUntil(() => fleet.viewsOf(victim, [victim]).every((s) => s === 'alive'), 30 * fleet.config.probeIntervalMs);
    assert.ok(aliveAt !== undefined, `still ${fleet.viewsOf(victim, [victim]).join(',')}`);
    assert.equal(reborn.incarnation, 1);
    const refutation = fleet.events.find((e) => e.kind === 'verdict' && e.observer === victim && e.node === victim);
    assert.ok(refutation?.kind === 'verdict');
    assert.deepEqual([refutation.status, refutation.incarnation, refutation.refuted], ['alive', 1, 'down']);
    for (const id of fleet.ids) assert.deepEqual(fleet.get(id).status(victim), { node: victim, status: 'alive', incarnation: 1 });
    console.log(`# restart: refuted and alive everywhere ${aliveAt - (downAt + 5 * fleet.config.probeIntervalMs)} ms after restart`);
    fleet.stopAll();
  });

  it('heals a partition: both sides declare the other down, then reconnect pings make everyone refute', async () => {
    const fleet = new Fleet({ n: 6, seed: 13 });
    const left = fleet.ids.slice(0, 3);
    const right = fleet.ids.slice(3);
    fleet.network.partition(left, right);
    const split = await fleet.runUntil(() => left.every((a) => right.every((b) => fleet.get(a).status(b)?.status === 'down' && fleet.get(b).status(a)?.status === 'down')), 100 * fleet.config.probeIntervalMs);
    assert.ok(split !== undefined);
    fleet.network.healLinks();
    const healed = await fleet.runUntil(() => fleet.ids.every((a) => fleet.get(a).view().every((m) => m.status === 'alive')), 3 * fleet.config.reconnectIntervalMs + 50 * fleet.config.probeIntervalMs);
    assert.ok(healed !== undefined, JSON.stringify(fleet.ids.map((a) => fleet.get(a).view().map((m) => m.status[0]).join(''))));
    fleet.stopAll();
  });
});
