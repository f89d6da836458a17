/**
 * The daemon commands of the `pace` binary (status, members, policy show|apply, leave) as a
 * user runs them: a real process against a real control API server, started by the test in a
 * fixture process over a fake NodeControl; output, --json and exit codes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/cli/package-info.js';
import { ControlApiProcess } from '../support/control-api-process.js';
import { waitUntil } from '../support/wait.js';

const root = packageRoot();
const bin = join(root, 'bin', 'pace.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function pace(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, PACE_DATA_DIR: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T>(r: Run): T {
  return JSON.parse(r.stdout) as T;
}

describe('against a running daemon', () => {
  let dir = '';
  let daemon: ControlApiProcess;
  const at = (): string[] => ['--data-dir', join(dir, 'data')];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pace-api-cli-'));
    daemon = await ControlApiProcess.start({ dataDir: join(dir, 'data') });
  });
  after(async () => {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('status: a label/value view; --json is the API shape', () => {
    const r = pace(['status', ...at()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^node +edge-01 \(12D3KooWEdge01\)$/m);
    assert.match(r.stdout, /^role +manager\+worker$/m);
    assert.match(r.stdout, /^phase +idle: role matches the policy$/m);
    assert.match(r.stdout, /^policy +site-ha v3 \(signed by a1b2c3d4e5f60718\)$/m);
    assert.match(r.stdout, /^rejected +site-ha v2: stale-version: version 2 is not above the active version 3$/m);
    assert.match(r.stdout, /^managers +edge-01, edge-02, edge-03$/m);
    assert.match(r.stdout, /^partition +majority$/m);
    assert.match(r.stdout, /^uptime +1h2m3s$/m);
    const j = pace(['status', '--json', ...at()]);
    assert.equal(j.code, 0, j.stderr);
    const status = json<{ node: { name: string }; policy: { version: number }; minority: boolean }>(j);
    assert.equal(status.node.name, 'edge-01');
    assert.equal(status.policy.version, 3);
    assert.equal(status.minority, false);
  });

  test('the data dir can come from PACE_DATA_DIR', () => {
    const r = pace(['status', '--json'], { PACE_DATA_DIR: join(dir, 'data') });
    assert.equal(r.code, 0, r.stderr);
  });

  test('members: a table sorted by name with liveness and role changes; --json is the API shape', () => {
    const r = pace(['members', ...at()]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^NAME +STATUS +ROLE +ADDRESS +ID$/);
    assert.match(lines[1] ?? '', /^edge-01 +alive +manager\+worker +\/ip4\/10\.0\.0\.1\/tcp\/7946 +12D3KooWEdge01$/);
    assert.match(lines[2] ?? '', /^edge-02 +alive \(suspect here\) +manager\+worker/);
    assert.match(lines[3] ?? '', /^edge-04 +down +worker → none +- +12D3KooWEdge04$/);
    assert.equal(lines.length, 4);
    const j = pace(['members', '--json', ...at()]);
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(json<{ name: string }[]>(j).map((m) => m.name), ['edge-02', 'edge-01', 'edge-04']);
  });

  test('policy show: YAML after a comment line; --json with the envelope metadata', () => {
    const r = pace(['policy', 'show', ...at()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '# site-ha v3, signed by a1b2c3d4e5f60718\napiVersion: pace/v1\nkind: ClusterPolicy\nmetadata: { name: site-ha, version: 3 }\n');
    const j = json<{ name: string; version: number; signer: string; yaml: string }>(pace(['policy', 'show', '--json', ...at()]));
    assert.deepEqual({ ...j, yaml: undefined }, { name: 'site-ha', version: 3, signer: 'a1b2c3d4e5f60718', yaml: undefined });
  });

  test('policy apply --signed: accepted exits 0; rejected exits 5 with code and reason; --json prints the verdict', () => {
    const envelope = (version: number, signature: string): string => {
      const file = join(dir, `env-${version}-${signature}.json`);
      writeFileSync(file, JSON.stringify({ name: 'site-ha', version, signature }));
      return file;
    };
    const ok = pace(['policy', 'apply', '--signed', envelope(4, 'good'), ...at()]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'applied site-ha v4; the node gossips it to the cluster\n');
    const stale = pace(['policy', 'apply', '--signed', envelope(4, 'good'), ...at()]);
    assert.equal(stale.code, 5);
    assert.equal(stale.stderr, 'pace: policy rejected by the node: stale-version: version 4 is not above the active version 4\n');
    const forged = pace(['policy', 'apply', '--json', '--signed', envelope(5, 'forged'), ...at()]);
    assert.equal(forged.code, 5);
    assert.deepEqual(json(forged), { accepted: false, code: 'bad-signature', reason: 'the signature does not verify with trusted key a1b2c3d4e5f60718' });
    assert.equal(forged.stderr, '');
    const accepted = pace(['policy', 'apply', '--json', '--signed', envelope(6, 'good'), ...at()]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.deepEqual(json(accepted), { accepted: true, name: 'site-ha', version: 6 });
    assert.match(pace(['policy', 'show', ...at()]).stdout, /^# site-ha v6/);
  });

  test('policy apply: bad usage exits 2 and sends nothing; a non-JSON envelope exits 5', async () => {
    const before = (await daemon.state()).applied;
    const none = pace(['policy', 'apply', ...at()]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give FILE --key KEYFILE .* or --signed ENVELOPE/);
    const both = pace(['policy', 'apply', 'p.yaml', '--key', 'k', '--signed', 'e.json', ...at()]);
    assert.equal(both.code, 2);
    const missing = pace(['policy', 'apply', '--signed', join(dir, 'nope.json'), ...at()]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.json: no such file/);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, 'apiVersion: pace/v1\n');
    const bad = pace(['policy', 'apply', '--signed', notJson, ...at()]);
    assert.equal(bad.code, 5);
    assert.match(bad.stderr, /rejected .*not\.json: malformed: not a signed policy envelope/);
    const noKey = pace(['policy', 'apply', join(root, 'policies', 'site-ha.yaml'), '--key', join(dir, 'missing.key'), ...at()]);
    assert.equal(noKey.code, 2, 'an unreadable key file is a usage error; nothing is sent');
    assert.match(noKey.stderr, /missing\.key/);
    assert.equal(pace(['keygen', '--out', dir, '--name', 'op']).code, 0);
    // Signed here with a real key and sent; this fake daemon trusts only its own "good" signatures.
    const signedHere = pace(['policy', 'apply', join(root, 'policies', 'site-ha.yaml'), '--key', join(dir, 'op.key'), ...at()]);
    assert.equal(signedHere.code, 5);
    assert.match(signedHere.stderr, /bad-signature/);
    assert.equal((await daemon.state()).applied, before + 1, 'only the envelope signed with a real key was sent');
  });

  test('a wrong token file exits 2 and says which file', () => {
    const token = join(dir, 'wrong.token');
    writeFileSync(token, `${'f'.repeat(64)}\n`);
    const r = pace(['status', ...at(), '--token-file', token]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`refused the API token from ${token}`));
  });

  test('--api with --token-file reaches the daemon without its api.json', () => {
    const url = 'url' in daemon.endpoint ? daemon.endpoint.url : '';
    const r = pace(['status', '--json', '--data-dir', join(dir, 'elsewhere'), '--api', url, '--token-file', join(dir, 'data', 'api.token')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(pace(['status', '--api', 'ftp://x']).code, 2, 'a bad --api is a usage error');
  });

  test('leave: exits 0 and the node was asked once; --json', async () => {
    const r = pace(['leave', ...at()]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'left the cluster; the agent is stopping\n');
    assert.equal((await daemon.state()).leaves, 1);
    assert.deepEqual(json(pace(['leave', '--json', ...at()])), { left: true });
  });
});

test('a daemon whose node fails to answer: exit 1 with the daemon\'s reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pace-api-cli-'));
  const daemon = await ControlApiProcess.start({ dataDir: dir, failing: ['status'], noPolicy: true });
  try {
    const r = pace(['status', '--data-dir', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /answered 500 \(internal: status exploded\)/);
    assert.equal(pace(['policy', 'show', '--data-dir', dir]).stdout, '# no active policy\n');
    assert.equal(pace(['policy', 'show', '--json', '--data-dir', dir]).stdout, 'null\n');
    await waitUntil(() => daemon.stderr.includes('"msg":"control API handler failed"'), 'the failure is logged');
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a unix socket daemon is found through api.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pace-api-cli-'));
  const daemon = await ControlApiProcess.start({ dataDir: join(dir, 'data'), socket: join(dir, 'api.sock') });
  try {
    const r = pace(['members', '--json', '--data-dir', join(dir, 'data')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json<unknown[]>(r).length, 3);
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no daemon: every daemon command exits 3 and names where it looked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pace-api-cli-empty-'));
  try {
    for (const args of [['status'], ['members'], ['policy', 'show'], ['leave'], ['status', '--json']]) {
      const r = pace([...args, '--data-dir', dir]);
      assert.equal(r.code, 3, args.join(' '));
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `pace: no PACE daemon found: ${dir}/api.json does not exist (is \`pace agent\` running with data directory ${dir}? set it with --data-dir or PACE_DATA_DIR)\n`);
    }
    const apply = join(dir, 'env.json');
    writeFileSync(apply, '{}');
    assert.equal(pace(['policy', 'apply', '--signed', apply, '--data-dir', dir]).code, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a refused port (stale api.json, or --api): exit 3 with the URL and "connection refused"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pace-api-cli-refused-'));
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    writeFileSync(join(dir, 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${port}` }));
    writeFileSync(join(dir, 'api.token'), 'abc\n');
    const r = pace(['status', '--data-dir', dir]);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, `pace: cannot reach the PACE daemon at http://127.0.0.1:${port} (from ${dir}/api.json): connection refused (is \`pace agent\` running?)\n`);
    const viaFlag = pace(['members', '--api', `http://127.0.0.1:${port}`, '--token-file', join(dir, 'api.token')]);
    assert.equal(viaFlag.code, 3);
    assert.match(viaFlag.stderr, /connection refused/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every daemon command has --help with its options and exit codes', () => {
  for (const args of [['status'], ['members'], ['policy', 'show'], ['policy', 'apply'], ['leave']]) {
    const r = pace([...args, '--help']);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, new RegExp(`Usage: pace ${args.join(' ')}`));
    assert.match(r.stdout, /--data-dir <dir>/);
    assert.match(r.stdout, /--json/);
    assert.match(r.stdout, /3 daemon unreachable/);
  }
  assert.match(pace(['policy', 'apply', '--help']).stdout, /5 the policy is invalid or the node rejected it/);
  assert.match(pace(['--help']).stdout, /status[\s\S]*members[\s\S]*leave/);
});
