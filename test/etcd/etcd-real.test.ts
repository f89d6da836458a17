/**
 * The etcd driver against a real etcd 3.4: four "nodes" (driver instances with their own data
 * dirs and ports) on 127.0.0.1 inside a private network namespace, driven in the order PACE
 * would: bootstrap A, promote B and C, kill -9 C and remove it from A, promote a replacement D,
 * demote B — then a crash of A's etcd repaired by ensure(), and D's disk wiped while it was down
 * (it no longer holds its seat, and its promote rejoins it in place).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdDriver } from '../../src/drivers/etcd-driver.js';
import type { EtcdSettings } from '../../src/policy/driver-settings/etcd.js';
import { Etcdctl } from '../../src/drivers/etcdctl.js';
import { SpawnProcessRunner } from '../../src/seams/spawn-process-runner.js';
import { SpawnServiceSupervisor } from '../../src/seams/spawn-service-supervisor.js';
import { SystemClock } from '../../src/seams/system-clock.js';
import { NetnsProcessRunner, NetnsServiceSupervisor } from '../support/netns-seams.js';
import { Netns, netnsUnavailable } from '../support/netns.js';
import { RecordingLogger } from '../support/recording-logger.js';

const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';
const skip = !existsSync(ETCD) || !existsSync(ETCDCTL) ? `etcd is not installed (${ETCD}, ${ETCDCTL}; Debian: etcd-server etcd-client)` : netnsUnavailable();

interface TestNode {
  id: string;
  settings: EtcdSettings;
  driver: EtcdDriver;
  logger: RecordingLogger;
}

describe('etcd driver on a real etcd', { skip }, () => {
  const clock = new SystemClock();
  let ns: Netns;
  let root: string;
  let runner: NetnsProcessRunner;
  let supervisor: NetnsServiceSupervisor;
  const nodes = new Map<string, TestNode>();
  const timings: Record<string, number> = {};

  const clientUrlOf = (id: string): string | undefined => {
    const n = nodes.get(id);
    return n === undefined ? undefined : `http://127.0.0.1:${n.settings.clientPort}`;
  };
  const node = (id: string): TestNode => nodes.get(id) as TestNode;
  const timed = async <T>(label: string, op: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const result = await op();
    timings[label] = Date.now() - t0;
    return result;
  };
  const pidFile = (n: TestNode): string => `${join(n.settings.dataDir, n.id)}.pid`;
  const marker = (n: TestNode): string => join(n.settings.dataDir, n.id);
  const ctl = (): Etcdctl => new Etcdctl(runner, ETCDCTL);

  before(() => {
    ns = Netns.create();
    root = mkdtempSync(join(tmpdir(), 'pace-etcd-'));
    runner = new NetnsProcessRunner(new SpawnProcessRunner({ clock }), ns.name);
    supervisor = new NetnsServiceSupervisor(new SpawnServiceSupervisor({ clock }), ns.name);
    // e's etcd cannot run on its machine (its binary exits at once): its promotes fail.
    ['a', 'b', 'c', 'd', 'e'].forEach((letter, i) => {
      const id = `node-${letter}`;
      const settings: EtcdSettings = { dataDir: join(root, letter), clientPort: 23790 + 10 * i, peerPort: 23791 + 10 * i, etcdBinary: letter === 'e' ? '/bin/false' : ETCD, etcdctlBinary: ETCDCTL, clusterToken: undefined };
      const logger = new RecordingLogger();
      const driver = new EtcdDriver(() => settings, { runner, supervisor, clock, logger, self: () => id, cluster: () => 'pace test', advertiseHost: () => '127.0.0.1', clientUrlOf });
      nodes.set(id, { id, settings, driver, logger });
    });
  });

  after(async () => {
    for (const n of nodes.values()) await supervisor.stop({ pidFile: pidFile(n), marker: marker(n) }, { graceMs: 2_000 }).catch(() => undefined);
    await ns.cleanup();
    rmSync(root, { recursive: true, force: true });
    console.log(`etcd driver timings (ms): ${JSON.stringify(timings)}`);
    if (process.env['PACE_ETCD_TEST_LOG'] === '1') for (const n of nodes.values()) for (const l of n.logger.lines) console.log(n.id, l.level, l.msg, JSON.stringify(l.obj).slice(0, 300));
  });

  it('bootstrap on A: one voting member', async () => {
    const members = await timed('bootstrap A', () => node('node-a').driver.changeControlPlane({ kind: 'bootstrap', node: 'node-a', actor: 'node-a' }, [], {}));
    assert.deepEqual(members, ['node-a']);
    await node('node-a').driver.ensure('manager+worker', {});
  });

  it('promote B then C: three voting members; a key written via A reads via C', async () => {
    assert.deepEqual(await timed('promote B', () => node('node-b').driver.changeControlPlane({ kind: 'promote', node: 'node-b', actor: 'node-b' }, ['node-a'], {})), ['node-a', 'node-b']);
    await node('node-b').driver.ensure('manager', {});
    assert.deepEqual(await timed('promote C', () => node('node-c').driver.changeControlPlane({ kind: 'promote', node: 'node-c', actor: 'node-c' }, ['node-a', 'node-b'], {})), ['node-a', 'node-b', 'node-c']);
    const list = await ctl().memberList([clientUrlOf('node-b') as string], {});
    assert.equal(list.filter((m) => !m.isLearner).length, 3);
    await ctl().run([clientUrlOf('node-a') as string], ['put', 'pace/hello', 'world'], {});
    const got = await ctl().run([clientUrlOf('node-c') as string], ['get', 'pace/hello', '--print-value-only', '--consistency=s'], {});
    assert.equal(got.trim(), 'world');
  });

  it('promote is idempotent: re-running it on a member changes nothing', async () => {
    const starts = node('node-c').logger.lines.filter((l) => l.msg === 'etcd: started').length;
    assert.deepEqual(await node('node-c').driver.changeControlPlane({ kind: 'promote', node: 'node-c', actor: 'node-c' }, ['node-a', 'node-b', 'node-c'], {}), ['node-a', 'node-b', 'node-c']);
    assert.equal(node('node-c').logger.lines.filter((l) => l.msg === 'etcd: started').length, starts);
  });

  it('kill -9 C, remove it from A, promote a replacement D', async () => {
    const c = node('node-c');
    const pid = await supervisor.running({ pidFile: pidFile(c), marker: marker(c) });
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    assert.deepEqual(await timed('remove C', () => node('node-a').driver.changeControlPlane({ kind: 'remove', node: 'node-c', actor: 'node-a' }, ['node-a', 'node-b', 'node-c'], {})), ['node-a', 'node-b']);
    assert.deepEqual(await timed('promote D', () => node('node-d').driver.changeControlPlane({ kind: 'promote', node: 'node-d', actor: 'node-d' }, ['node-a', 'node-b'], {})), ['node-a', 'node-b', 'node-d']);
    const got = await ctl().run([clientUrlOf('node-d') as string], ['get', 'pace/hello', '--print-value-only'], {});
    assert.equal(got.trim(), 'world');
  });

  it('demote B: it leaves, its etcd stops and its data is moved aside', async () => {
    const b = node('node-b');
    assert.deepEqual(await timed('demote B', () => b.driver.changeControlPlane({ kind: 'demote', node: 'node-b', actor: 'node-b' }, ['node-a', 'node-b', 'node-d'], {})), ['node-a', 'node-d']);
    await b.driver.ensure('worker', {});
    assert.equal(await supervisor.running({ pidFile: pidFile(b), marker: marker(b) }), undefined);
    assert.ok(!existsSync(join(b.settings.dataDir, 'node-b')));
    assert.ok(readdirSync(b.settings.dataDir).some((f) => f.startsWith('node-b.removed-')));
    await ctl().run([clientUrlOf('node-a') as string], ['put', 'pace/after', 'demote'], {});
    assert.equal((await ctl().run([clientUrlOf('node-d') as string], ['get', 'pace/after', '--print-value-only'], {})).trim(), 'demote');
  });

  it('ensure(manager) on the removed C: its etcd exits on the old data, which is moved aside', async () => {
    const c = node('node-c');
    await assert.rejects(c.driver.ensure('manager', {}), /removed from the cluster; its data was moved aside/);
    assert.ok(!existsSync(join(c.settings.dataDir, 'node-c')));
    await c.driver.ensure('manager', {}); // nothing left to start
    assert.equal(await supervisor.running({ pidFile: pidFile(c), marker: marker(c) }), undefined);
  });

  it('ensure(manager) restarts a member whose etcd died, on its data', async () => {
    const a = node('node-a');
    const pid = await supervisor.running({ pidFile: pidFile(a), marker: marker(a) });
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    await timed('ensure restart A', () => a.driver.ensure('manager', {}));
    const after = await supervisor.running({ pidFile: pidFile(a), marker: marker(a) });
    assert.ok(after !== undefined && after !== pid);
    assert.equal((await ctl().run([clientUrlOf('node-a') as string], ['get', 'pace/hello', '--print-value-only'], {})).trim(), 'world');
    // And again: nothing to do.
    await a.driver.ensure('manager', {});
    assert.equal(await supervisor.running({ pidFile: pidFile(a), marker: marker(a) }), after);
  });

  it('a member whose disk was wiped while it was down no longer holds its seat, and its promote rejoins it in place', async () => {
    // Three voting members again (C, its old data moved aside above, joins afresh), so two keep
    // the quorum while D's membership is replaced.
    assert.deepEqual(await node('node-c').driver.changeControlPlane({ kind: 'promote', node: 'node-c', actor: 'node-c' }, ['node-a', 'node-d'], {}), ['node-a', 'node-c', 'node-d']);
    const d = node('node-d');
    assert.equal(await d.driver.holdsSeat(), true);
    const pid = await supervisor.running({ pidFile: pidFile(d), marker: marker(d) });
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    rmSync(join(d.settings.dataDir, 'node-d'), { recursive: true, force: true });
    assert.equal(await d.driver.holdsSeat(), false);
    const staleId = (await ctl().memberList([clientUrlOf('node-a') as string], {})).find((m) => m.name === 'node-d')?.id;
    assert.ok(staleId !== undefined, 'the stale member is still listed');
    assert.deepEqual(await timed('rejoin D', () => d.driver.changeControlPlane({ kind: 'promote', node: 'node-d', actor: 'node-d' }, ['node-a', 'node-c', 'node-d'], {})), ['node-a', 'node-c', 'node-d']);
    assert.equal(await d.driver.holdsSeat(), true);
    const list = await ctl().memberList([clientUrlOf('node-a') as string], {});
    assert.notEqual(list.find((m) => m.name === 'node-d')?.id, staleId, 'a new membership');
    assert.equal(list.filter((m) => !m.isLearner).length, 3);
    assert.equal((await ctl().run([clientUrlOf('node-d') as string], ['get', 'pace/hello', '--print-value-only'], {})).trim(), 'world');
  });

  it('bootstrap on the data of a member its cluster removed fails once, moving the data aside; the next one starts a new cluster', async () => {
    const c = node('node-c');
    const pid = await supervisor.running({ pidFile: pidFile(c), marker: marker(c) });
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    assert.deepEqual(await node('node-a').driver.changeControlPlane({ kind: 'remove', node: 'node-c', actor: 'node-a' }, ['node-a', 'node-c', 'node-d'], {}), ['node-a', 'node-d']);
    const bootstrap = () => c.driver.changeControlPlane({ kind: 'bootstrap', node: 'node-c', actor: 'node-c' }, [], {});
    await assert.rejects(bootstrap(), /removed from the cluster; its data was moved aside/);
    assert.equal(await c.driver.holdsSeat(), false);
    assert.deepEqual(await bootstrap(), ['node-c']);
    assert.deepEqual((await ctl().memberList([clientUrlOf('node-a') as string], {})).map((m) => m.name).sort(), ['node-a', 'node-d'], 'the old cluster is untouched');
  });

  it("a promote whose etcd cannot start takes its learner out again, and a learner left behind does not block the next node's promote", async () => {
    const a = clientUrlOf('node-a') as string;
    const e = node('node-e');
    await assert.rejects(
      timed('failed promote E', () => e.driver.changeControlPlane({ kind: 'promote', node: 'node-e', actor: 'node-e' }, ['node-a', 'node-d'], {})),
      /the local etcd exited/,
    );
    assert.deepEqual((await ctl().memberList([a], {})).filter((m) => m.isLearner), [], "e's learner was taken out again");
    assert.equal(await e.driver.holdsSeat(), false);
    // A learner nobody will start (as a promote whose node died before it could clean up leaves).
    await ctl().run([a], ['member', 'add', 'node-ghost', '--learner', '--peer-urls=http://127.0.0.1:23999'], {});
    assert.equal((await ctl().memberList([a], {})).filter((m) => m.isLearner).length, 1);
    // C, running a one-member cluster of its own since the test above, joins a and d.
    assert.deepEqual(await node('node-c').driver.changeControlPlane({ kind: 'promote', node: 'node-c', actor: 'node-c' }, ['node-a', 'node-d'], {}), ['node-a', 'node-c', 'node-d']);
    assert.deepEqual((await ctl().memberList([a], {})).filter((m) => m.isLearner), []);
  });
});
