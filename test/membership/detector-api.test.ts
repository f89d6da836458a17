import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MEMBERSHIP } from '../../src/membership/profiles.js';
import { FailureDetector } from '../../src/membership/detector.js';
import { MembershipConfigError } from '../../src/membership/errors.js';
import { retransmitLimit, suspicionBounds } from '../../src/membership/timing.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { Fleet } from './support/fleet.js';
import { TestNetwork } from './support/test-network.js';

describe('FailureDetector: API', () => {
  it('starts and stops idempotently, registering and removing its protocol handler', () => {
    const clock = new ManualClock();
    const network = new TestNetwork(clock);
    const mesh = network.mesh('a');
    const d = new FailureDetector({ self: 'a', cluster: 'c1', mesh, clock, random: new SeededRandom(1) });
    assert.equal(d.protocol, '/pace/c1/swim/1');
    d.start();
    d.start();
    assert.ok(mesh.handlerFor('/pace/c1/swim/1') !== undefined);
    assert.equal(clock.pendingTimers(), 2, 'one probe timer and one reconnect timer');
    d.stop();
    d.stop();
    assert.equal(mesh.handlerFor('/pace/c1/swim/1'), undefined);
    assert.equal(clock.pendingTimers(), 0);
  });

  it('resumes a suspicion held across stop() and start(), so it still ends in a verdict', async () => {
    const fleet = new Fleet({ n: 5, seed: 19 });
    const observer = fleet.get('node-000');
    fleet.crash('node-002');
    await fleet.runUntil(() => observer.status('node-002')?.status === 'suspect', 100 * fleet.config.probeIntervalMs);
    observer.stop();
    fleet.network.crash('node-000');
    await fleet.run(100 * fleet.config.probeIntervalMs);
    assert.equal(observer.status('node-002')?.status, 'suspect');
    // Still cut off, so only its own resumed timer can decide.
    observer.start();
    const restartedAt = fleet.clock.now();
    const downAt = await fleet.runUntil(() => observer.status('node-002')?.status === 'down', 100 * fleet.config.probeIntervalMs);
    assert.ok(downAt !== undefined);
    assert.ok(downAt - restartedAt <= suspicionBounds(fleet.config, 5).maxMs);
    fleet.stopAll();
  });

  it('rejects an invalid config at construction', () => {
    const clock = new ManualClock();
    const mesh = new TestNetwork(clock).mesh('a');
    assert.throws(
      () => new FailureDetector({ self: 'a', cluster: 'c', mesh, clock, random: new SeededRandom(1), config: { ...DEFAULT_MEMBERSHIP, probeTimeoutMs: 2_000 } }),
      (err: unknown) => err instanceof MembershipConfigError && err.field === 'probeTimeoutMs',
    );
  });

  it('takes its member list from setMembers: self always present, sorted view, removed members forgotten', () => {
    const clock = new ManualClock();
    const d = new FailureDetector({ self: 'b', cluster: 'c', mesh: new TestNetwork(clock).mesh('b'), clock, random: new SeededRandom(1) });
    d.setMembers(['c', 'a']);
    assert.deepEqual(d.view(), ['a', 'b', 'c'].map((node) => ({ node, status: 'alive', incarnation: 0 })));
    d.setMembers(['a']);
    assert.deepEqual(d.view().map((m) => m.node), ['a', 'b']);
    assert.equal(d.status('c'), undefined);
  });

  it('lists reachable members (alive or suspect, self included) as one array until a status changes', async () => {
    const fleet = new Fleet({ n: 4, seed: 23 });
    const observer = fleet.get('node-000');
    const first = observer.reachable();
    assert.deepEqual(first, ['node-000', 'node-001', 'node-002', 'node-003']);
    assert.equal(observer.reachable(), first, 'the same array while nothing changed');
    assert.ok(Object.isFrozen(first));
    fleet.crash('node-002');
    await fleet.runUntil(() => observer.status('node-002')?.status === 'suspect', 100 * fleet.config.probeIntervalMs);
    assert.deepEqual(observer.reachable(), first, 'a suspect still counts as reachable');
    await fleet.runUntil(() => observer.status('node-002')?.status === 'down', 100 * fleet.config.probeIntervalMs);
    assert.deepEqual(observer.reachable(), ['node-000', 'node-001', 'node-003']);
    observer.setMembers(['node-001']);
    assert.deepEqual(observer.reachable(), ['node-000', 'node-001']);
    fleet.stopAll();
  });

  it("takes a member's recorded incarnation as its word: an older claim gives way and the member is probed again", async () => {
    const fleet = new Fleet({ n: 3, seed: 5 });
    const observer = fleet.get('node-000');
    fleet.crash('node-002');
    await fleet.runUntil(() => observer.status('node-002')?.status === 'down', 100 * fleet.config.probeIntervalMs);
    const down = observer.status('node-002')!;
    observer.recordedAlive('node-002', down.incarnation);
    assert.deepEqual(observer.status('node-002'), down, 'the same incarnation does not undo the verdict');
    observer.recordedAlive('not-a-member', down.incarnation + 5);
    assert.equal(observer.status('not-a-member'), undefined);
    observer.recordedAlive('node-002', down.incarnation + 1);
    assert.deepEqual(observer.status('node-002'), { node: 'node-002', status: 'alive', incarnation: down.incarnation + 1 });
    assert.ok(observer.reachable().includes('node-002'));
    // Still crashed: probed again, and declared down at the incarnation it last claimed.
    await fleet.runUntil(() => observer.status('node-002')?.status === 'down', 100 * fleet.config.probeIntervalMs);
    assert.equal(observer.status('node-002')?.incarnation, down.incarnation + 1);
    fleet.stopAll();
  });

  it('isolates a throwing listener and stops calling an unsubscribed one', async () => {
    const fleet = new Fleet({ n: 5, seed: 8 });
    const observer = fleet.get('node-000');
    const seen: string[] = [];
    observer.on('change', () => {
      throw new Error('listener bug');
    });
    const off = observer.on('change', (c) => seen.push(`${c.node}:${c.status}`));
    fleet.crash('node-004');
    await fleet.runUntil(() => observer.status('node-004')?.status === 'down', 100 * fleet.config.probeIntervalMs);
    assert.deepEqual(seen, ['node-004:suspect', 'node-004:down']);
    off();
    await fleet.run(20 * fleet.config.probeIntervalMs);
    fleet.crash('node-003');
    await fleet.runUntil(() => observer.status('node-003')?.status === 'down', 100 * fleet.config.probeIntervalMs);
    assert.equal(seen.length, 2);
    fleet.stopAll();
  });
});

describe('FailureDetector: LAN defaults', () => {
  for (const n of [8, 32]) {
    it(`declares a crash down everywhere within the bound at N=${n} with 1 ms links`, async () => {
      const fleet = new Fleet({ n, seed: 17, config: DEFAULT_MEMBERSHIP, latencyMs: 1 });
      const { probeIntervalMs } = fleet.config;
      await fleet.run(5 * probeIntervalMs);
      const crashedAt = fleet.clock.now();
      fleet.crash('node-001');
      const bound = (2 * (n - 1) + 1 + retransmitLimit(fleet.config, n)) * probeIntervalMs + suspicionBounds(fleet.config, n).maxMs;
      const doneAt = await fleet.runUntil(() => fleet.viewsOf('node-001', ['node-001']).every((s) => s === 'down'), bound);
      assert.ok(doneAt !== undefined);
      const firstVerdict = fleet.events.find((e) => e.kind === 'verdict');
      console.log(`# LAN N=${n}: first down verdict ${(firstVerdict?.at ?? 0) - crashedAt} ms, down everywhere ${doneAt - crashedAt} ms after the crash (bound ${bound} ms)`);
      assert.deepEqual(fleet.events.filter((e) => e.node !== 'node-001'), []);
      fleet.stopAll();
    });
  }
});
