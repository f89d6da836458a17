/**
 * The etcd driver's commands and parsing, with a ScriptedProcessRunner that plays a small etcd
 * (a member table behind etcdctl) and a FakeServiceSupervisor: no etcd runs here.
 */
import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdDriver } from '../../src/drivers/etcd-driver.js';
import { parseEtcdSettings, type EtcdSettings } from '../../src/policy/driver-settings/etcd.js';
import { initialClusterFor, parseMemberAdd, parseMemberList } from '../../src/drivers/etcdctl.js';
import { hostFromAddresses } from '../../src/drivers/member-host.js';
import { parseDriverSpec } from '../../src/policy/driver-settings/index.js';
import { FakeServiceSupervisor } from '../../src/seams/fake-service-supervisor.js';
import type { ProcessRequest, ProcessResult } from '../../src/seams/process-runner.js';
import { ScriptedProcessRunner } from '../../src/seams/scripted-process-runner.js';
import { SystemClock } from '../../src/seams/system-clock.js';
import { RecordingLogger } from '../support/recording-logger.js';

const root = mkdtempSync(join(tmpdir(), 'pace-etcd-unit-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('etcdctl output parsing', () => {
  it('member list keeps 64-bit IDs exact (as hex) and reads names, URLs and learners', () => {
    const out = '{"header":{"cluster_id":17237436991929493444,"member_id":9372538179322589801,"raft_term":2},"members":[{"ID":17212157497098542934,"name":"a","peerURLs":["http://10.0.0.1:2380"],"clientURLs":["http://10.0.0.1:2379"]},{"ID":580012341234,"peerURLs":["http://10.0.0.2:2380"],"isLearner":true}]}';
    assert.deepEqual(parseMemberList(out), [
      { id: 'eeddde0cb8a29f56', name: 'a', peerUrls: ['http://10.0.0.1:2380'], clientUrls: ['http://10.0.0.1:2379'], isLearner: false },
      { id: (580012341234n).toString(16), name: '', peerUrls: ['http://10.0.0.2:2380'], clientUrls: [], isLearner: true },
    ]);
  });

  it('member add: the ID and ETCD_INITIAL_CLUSTER exactly as printed', () => {
    const out = 'Member ced000fda4d05edf added to cluster 8c4281cc65c7b112\n\nETCD_NAME="b"\nETCD_INITIAL_CLUSTER="b=http://10.0.0.2:2380,a=http://10.0.0.1:2380"\nETCD_INITIAL_ADVERTISE_PEER_URLS="http://10.0.0.2:2380"\nETCD_INITIAL_CLUSTER_STATE="existing"\n';
    assert.deepEqual(parseMemberAdd(out), { id: 'ced000fda4d05edf', initialCluster: 'b=http://10.0.0.2:2380,a=http://10.0.0.1:2380' });
    assert.throws(() => parseMemberAdd('Error: etcdserver: unhealthy cluster'), /unexpected/);
  });

  it('the initial cluster of an added-but-unstarted member is rebuilt from the member list', () => {
    const list = parseMemberList('{"members":[{"ID":1,"name":"a","peerURLs":["http://h1:2380"]},{"ID":2,"peerURLs":["http://h2:2380"],"isLearner":true}]}');
    assert.equal(initialClusterFor(list, { id: '2', name: 'b' }), 'a=http://h1:2380,b=http://h2:2380');
  });
});

describe('etcd settings', () => {
  it('has a default for everything', () => {
    assert.deepEqual(parseEtcdSettings({}), { dataDir: '/var/lib/pace/etcd', clientPort: 2379, peerPort: 2380, etcdBinary: '/usr/bin/etcd', etcdctlBinary: '/usr/bin/etcdctl', clusterToken: undefined });
  });

  it('reports each wrong field, through the policy loader check too', () => {
    const problemsOf = (settings: Record<string, unknown>): [string, string][] => {
      const spec = parseDriverSpec('etcd', settings);
      return Array.isArray(spec) ? spec : [];
    };
    const problems = problemsOf( { dataDir: 'relative', clientPort: 70000, etcdBinary: 'etcd', clusterToken: 'a b', color: 'red' });
    assert.deepEqual(problems.map(([field]) => field).sort(), ['clientPort', 'clusterToken', 'color', 'dataDir', 'etcdBinary']);
    assert.deepEqual(problemsOf({ dataDir: '/d', clientPort: 2380 }).map(([f]) => f), ['peerPort']);
    assert.deepEqual(parseDriverSpec('etcd', { dataDir: '/d', clientPort: 12379, peerPort: 12380, clusterToken: 'site-1' }), {
      name: 'etcd',
      settings: { dataDir: '/d', clientPort: 12379, peerPort: 12380, etcdBinary: '/usr/bin/etcd', etcdctlBinary: '/usr/bin/etcdctl', clusterToken: 'site-1' },
    });
  });
});

/** A member table behind a scripted etcdctl. */
class FakeEtcd {
  members: { id: string; name: string; peer: string; client: string; learner: boolean }[] = [];
  /** Answers "unhealthy cluster" to the next N membership changes. */
  unhealthy = 0;
  /** Answers "not in sync" to the next N promotes. */
  lagging = 0;
  nextId = 0xf1;

  handle = (req: ProcessRequest): Partial<ProcessResult> => {
    const args = (req.args ?? []).filter((a) => !a.startsWith('--'));
    const [cmd, sub, arg] = args;
    const fail = (msg: string): Partial<ProcessResult> => ({ exitCode: 1, stderr: `Error: ${msg}\n` });
    if (cmd === 'endpoint') return {};
    if (cmd !== 'member') return fail('unknown command');
    if (sub === 'list') {
      const ms = this.members.map((m) => `{"ID":${BigInt(`0x${m.id}`)},"name":"${m.name}","peerURLs":["${m.peer}"],"clientURLs":[${m.name ? `"${m.client}"` : ''}],"isLearner":${m.learner}}`);
      return { stdout: `{"header":{"cluster_id":1},"members":[${ms.join(',')}]}` };
    }
    if (sub === 'add' || sub === 'remove') {
      if (this.unhealthy > 0) {
        this.unhealthy--;
        return fail('etcdserver: unhealthy cluster');
      }
    }
    if (sub === 'add') {
      const peer = (req.args ?? []).find((a) => a.startsWith('--peer-urls='))?.slice('--peer-urls='.length) ?? '';
      const id = (this.nextId++).toString(16);
      this.members.push({ id, name: '', peer, client: peer.replace(/:(\d+)$/, (_m, p: string) => `:${Number(p) - 1}`), learner: true });
      const cluster = this.members.map((m) => `${m.name || (arg ?? '')}=${m.peer}`).join(',');
      return { stdout: `Member ${id} added to cluster 1\n\nETCD_NAME="${arg}"\nETCD_INITIAL_CLUSTER="${cluster}"\nETCD_INITIAL_CLUSTER_STATE="existing"\n` };
    }
    const m = this.members.find((x) => x.id === arg);
    if (m === undefined) return fail('etcdserver: member not found');
    if (sub === 'promote') {
      if (this.lagging > 0) {
        this.lagging--;
        return fail('etcdserver: can only promote a learner member which is in sync with leader');
      }
      m.learner = false;
      return {};
    }
    if (sub === 'remove') {
      this.members = this.members.filter((x) => x !== m);
      return {};
    }
    return fail('unknown member command');
  };
}

describe('etcd driver commands', () => {
  let etcd: FakeEtcd;
  let runner: ScriptedProcessRunner;
  let supervisor: FakeServiceSupervisor;
  let settings: EtcdSettings;
  let n = 0;
  const driverFor = (self: string): EtcdDriver =>
    new EtcdDriver(() => settings, {
      runner,
      supervisor,
      clock: new SystemClock(),
      logger: new RecordingLogger(),
      self: () => self,
      cluster: () => 'home lab',
      advertiseHost: () => `10.0.0.${self.charCodeAt(0) - 96}`,
      clientUrlOf: (id) => `http://10.0.0.${id.charCodeAt(0) - 96}:2379`,
    }, { backoffMs: 1, healthyMs: 200, membershipRetryMs: 2_000, promoteMs: 2_000 });
  const memberArgs = (): string[][] => runner.calls.map((c) => (c.args ?? []).filter((a) => !a.startsWith('--dial') && !a.startsWith('--command')));

  beforeEach(() => {
    etcd = new FakeEtcd();
    runner = new ScriptedProcessRunner(etcd.handle);
    supervisor = new FakeServiceSupervisor();
    settings = { dataDir: join(root, `case-${n++}`), clientPort: 2379, peerPort: 2380, etcdBinary: '/usr/bin/etcd', etcdctlBinary: '/usr/bin/etcdctl', clusterToken: undefined };
  });

  it('bootstrap starts etcd alone with a new cluster and a token from the cluster name', async () => {
    etcd.members = [{ id: 'a1', name: 'a', peer: 'http://10.0.0.1:2380', client: 'http://10.0.0.1:2379', learner: false }];
    assert.deepEqual(await driverFor('a').changeControlPlane({ kind: 'bootstrap', node: 'a', actor: 'a' }, [], {}), ['a']);
    assert.equal(supervisor.starts.length, 1);
    const start = supervisor.starts[0]!;
    assert.equal(start.command, '/usr/bin/etcd');
    const flag = (name: string): string | undefined => start.args[start.args.indexOf(name) + 1];
    assert.equal(flag('--name'), 'a');
    assert.equal(flag('--data-dir'), join(settings.dataDir, 'a'));
    assert.equal(flag('--initial-cluster'), 'a=http://10.0.0.1:2380');
    assert.equal(flag('--initial-cluster-state'), 'new');
    assert.match(flag('--initial-cluster-token') ?? '', /^home-lab-[0-9a-z]+$/);
    assert.equal(flag('--advertise-client-urls'), 'http://10.0.0.1:2379');
    assert.equal(flag('--listen-client-urls'), 'http://10.0.0.1:2379,http://127.0.0.1:2379');
    assert.deepEqual(runner.calls[0]?.args?.slice(-2), ['endpoint', 'health']);
    assert.ok(runner.calls.every((c) => c.command === '/usr/bin/etcdctl' && c.timeoutMs !== undefined));
  });

  it('promote: member add as learner (retried while unhealthy), start with exactly the printed cluster, promote (retried until in sync)', async () => {
    etcd.members = [{ id: 'a1', name: 'a', peer: 'http://10.0.0.1:2380', client: 'http://10.0.0.1:2379', learner: false }];
    etcd.unhealthy = 2;
    etcd.lagging = 2;
    const b = driverFor('b');
    // Starting the fake "etcd" names the member, as the real one does once it joins.
    const start = supervisor.start.bind(supervisor);
    supervisor.start = async (spec) => {
      const me = etcd.members.find((m) => m.peer === 'http://10.0.0.2:2380');
      if (me) me.name = 'b';
      return start(spec);
    };
    assert.deepEqual(await b.changeControlPlane({ kind: 'promote', node: 'b', actor: 'b' }, ['a'], {}), ['a', 'b']);
    const adds = memberArgs().filter((a) => a[2] === 'add');
    assert.equal(adds.length, 3);
    assert.deepEqual(adds[0], ['--endpoints=http://10.0.0.1:2379', 'member', 'add', 'b', '--learner', '--peer-urls=http://10.0.0.2:2380']);
    const s = supervisor.starts[0]!;
    assert.equal(s.args[s.args.indexOf('--initial-cluster') + 1], 'a=http://10.0.0.1:2380,b=http://10.0.0.2:2380');
    assert.equal(s.args[s.args.indexOf('--initial-cluster-state') + 1], 'existing');
    assert.equal(memberArgs().filter((a) => a[2] === 'promote').length, 3);
    assert.equal(etcd.members.find((m) => m.name === 'b')?.learner, false);

    // Re-run (e.g. after a PACE crash): finds itself a member, adds nothing, starts nothing new.
    mkdirSync(join(settings.dataDir, 'b', 'member'), { recursive: true });
    const calls = runner.calls.length;
    assert.deepEqual(await b.changeControlPlane({ kind: 'promote', node: 'b', actor: 'b' }, ['a', 'b'], {}), ['a', 'b']);
    assert.ok(memberArgs().slice(calls).every((a) => a[2] !== 'add' && a[2] !== 'promote'));
    assert.equal(supervisor.starts.length, 1);
  });

  it('promote after a crash between member add and start rebuilds the initial cluster from the member list', async () => {
    etcd.members = [
      { id: 'a1', name: 'a', peer: 'http://10.0.0.1:2380', client: 'http://10.0.0.1:2379', learner: false },
      { id: 'b7', name: '', peer: 'http://10.0.0.2:2380', client: '', learner: true },
    ];
    await driverFor('b').changeControlPlane({ kind: 'promote', node: 'b', actor: 'b' }, ['a'], {});
    assert.equal(memberArgs().filter((a) => a[2] === 'add').length, 0);
    const s = supervisor.starts[0]!;
    assert.equal(s.args[s.args.indexOf('--initial-cluster') + 1], 'a=http://10.0.0.1:2380,b=http://10.0.0.2:2380');
    assert.deepEqual(memberArgs().find((a) => a[2] === 'promote'), ['--endpoints=http://10.0.0.1:2379', 'member', 'promote', 'b7']);
  });

  it('remove takes the dead member out by its ID; a member already gone is not an error', async () => {
    etcd.members = [
      { id: 'a1', name: 'a', peer: 'http://10.0.0.1:2380', client: 'http://10.0.0.1:2379', learner: false },
      { id: 'c3', name: 'c', peer: 'http://10.0.0.3:2380', client: 'http://10.0.0.3:2379', learner: false },
    ];
    mkdirSync(join(settings.dataDir, 'a', 'member'), { recursive: true });
    const a = driverFor('a');
    assert.deepEqual(await a.changeControlPlane({ kind: 'remove', node: 'c', actor: 'a' }, ['a', 'c'], {}), ['a']);
    assert.deepEqual(memberArgs().find((x) => x[2] === 'remove'), ['--endpoints=http://10.0.0.1:2379', 'member', 'remove', 'c3']);
    const calls = runner.calls.length;
    assert.deepEqual(await a.changeControlPlane({ kind: 'remove', node: 'c', actor: 'a' }, ['a', 'c'], {}), ['a']);
    assert.ok(memberArgs().slice(calls).every((x) => x[2] !== 'remove'));
  });

  it('demote removes itself via another member, stops etcd and moves its data aside', async () => {
    etcd.members = [
      { id: 'a1', name: 'a', peer: 'http://10.0.0.1:2380', client: 'http://10.0.0.1:2379', learner: false },
      { id: 'b2', name: 'b', peer: 'http://10.0.0.2:2380', client: 'http://10.0.0.2:2379', learner: false },
    ];
    mkdirSync(join(settings.dataDir, 'b', 'member'), { recursive: true });
    const b = driverFor('b');
    await b.ensure('manager', {});
    assert.equal(supervisor.starts.length, 1);
    assert.deepEqual(await b.changeControlPlane({ kind: 'demote', node: 'b', actor: 'b' }, ['a', 'b'], {}), ['a']);
    assert.deepEqual(memberArgs().find((x) => x[2] === 'remove'), ['--endpoints=http://10.0.0.1:2379', 'member', 'remove', 'b2']);
    assert.equal(supervisor.stops.length, 1);
    assert.deepEqual(readdirSync(settings.dataDir).filter((f) => f.startsWith('b')).map((f) => f.replace(/\d+$/, '')), ['b.removed-']);
  });

  it('ensure: a manager without member data starts nothing; a manager with data restarts a dead etcd; a worker stops it', async () => {
    const a = driverFor('a');
    await a.ensure('manager', {});
    assert.equal(supervisor.starts.length, 0);
    mkdirSync(join(settings.dataDir, 'a', 'member'), { recursive: true });
    await a.ensure('manager+worker', {});
    await a.ensure('manager+worker', {});
    assert.equal(supervisor.starts.length, 1);
    assert.ok(!supervisor.starts[0]!.args.includes('--initial-cluster-state'));
    supervisor.crash(supervisor.starts[0]!.pidFile);
    await a.ensure('manager', {});
    assert.equal(supervisor.starts.length, 2);
    await a.ensure('worker', {});
    await a.ensure('none', {});
    assert.equal(supervisor.stops.length, 1);
  });
});

describe('advertised host from member addresses', () => {
  it('takes the first routable IP of multiaddrs or host:port, loopback last', () => {
    assert.equal(hostFromAddresses(['/ip4/127.0.0.1/tcp/4001/p2p/12D3', '/ip4/10.99.0.11/tcp/4001/p2p/12D3']), '10.99.0.11');
    assert.equal(hostFromAddresses(['/ip6/fd00::1/tcp/4001', '/ip4/192.168.1.5/tcp/4001']), '192.168.1.5');
    assert.equal(hostFromAddresses(['10.0.0.7:4001']), '10.0.0.7');
    assert.equal(hostFromAddresses(['/ip4/127.0.0.1/tcp/4001']), '127.0.0.1');
    assert.equal(hostFromAddresses(['/ip4/0.0.0.0/tcp/4001']), undefined);
  });
});
