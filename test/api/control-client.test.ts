/**
 * The control API client against the real server (over a fake NodeControl): typed results,
 * finding the daemon by data dir, and every way it can be unreachable or refuse us.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../../src/api/control-client.js';
import { ControlServer, type ControlListen } from '../../src/api/control-server.js';
import { ApiCredentialsError, ApiResponseError, ApiUnauthorizedError, DaemonUnreachableError } from '../../src/api/errors.js';
import { locateDaemon } from '../../src/api/locate-daemon.js';
import { defaultDataDir, DEFAULT_DATA_DIR } from '../../src/config/paths.js';
import { FileStorage } from '../../src/seams/file-storage.js';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { SystemClock } from '../../src/seams/system-clock.js';
import { FakeNodeControl, sampleMembers } from '../support/fake-node-control.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { waitUntil } from '../support/wait.js';

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pace-client-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withDaemon(listen: ControlListen | ((dir: string) => ControlListen), fn: (client: ControlClient, control: FakeNodeControl, dataDir: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const dataDir = join(dir, 'data');
    const control = new FakeNodeControl();
    const server = new ControlServer({ control, storage: new FileStorage(dataDir), random: new SeededRandom(3), logger: new RecordingLogger() }, { listen: typeof listen === 'function' ? listen(dir) : listen });
    await server.start();
    try {
      const client = new ControlClient(await locateDaemon({ dataDir }), { clock: new SystemClock() });
      await fn(client, control, dataDir);
    } finally {
      await server.stop();
    }
  });
}

function isUnreachable(where: RegExp, why: RegExp) {
  return (err: Error): boolean => {
    assert.ok(err instanceof DaemonUnreachableError, `expected DaemonUnreachableError, got ${err.name}: ${err.message}`);
    assert.equal(err.name, 'DaemonUnreachableError');
    assert.match(err.message, where);
    assert.match(err.message, why);
    return true;
  };
}

test('the data dir default is /var/lib/pace unless PACE_DATA_DIR is set (and non-empty)', () => {
  assert.equal(DEFAULT_DATA_DIR, '/var/lib/pace');
  assert.equal(defaultDataDir({}), '/var/lib/pace');
  assert.equal(defaultDataDir({ PACE_DATA_DIR: '' }), '/var/lib/pace');
  assert.equal(defaultDataDir({ PACE_DATA_DIR: '/srv/pace' }), '/srv/pace');
});

for (const transport of ['tcp', 'unix socket'] as const) {
  test(`typed methods mirror NodeControl over ${transport}`, async () => {
    const listen = (dir: string): ControlListen => (transport === 'tcp' ? { port: 0 } : { socket: join(dir, 'api.sock') });
    await withDaemon(listen, async (client, control) => {
      assert.deepEqual(await client.status(), control.status());
      assert.deepEqual(await client.members(), sampleMembers());
      assert.deepEqual(await client.policy(), control.active);
      assert.deepEqual(await client.applyPolicy({ name: 'site-ha', version: 9, signature: 'good' }), { accepted: true, name: 'site-ha', version: 9 });
      assert.deepEqual(await client.applyPolicy({ name: 'site-ha', version: 10, signature: 'forged' }), {
        accepted: false,
        code: 'bad-signature',
        reason: 'the signature does not verify with trusted key a1b2c3d4e5f60718',
      });
      assert.equal((await client.policy())?.version, 9);
      await client.leave();
      assert.equal(control.leaves, 1);
      control.active = null;
      assert.equal(await client.policy(), null);
    });
  });
}

test('a handler failure is an ApiResponseError carrying the daemon\'s reason', async () => {
  await withDaemon({ port: 0 }, async (client, control) => {
    control.failing.add('members');
    await assert.rejects(client.members(), (err: Error) => {
      assert.ok(err instanceof ApiResponseError);
      assert.equal(err.status, 500);
      assert.deepEqual(err.body, { code: 'internal', reason: 'members exploded' });
      assert.match(err.message, /answered 500 \(internal: members exploded\)/);
      return true;
    });
  });
});

test('a wrong token is an ApiUnauthorizedError naming the token file', async () => {
  await withDaemon({ port: 0 }, async (_client, _control, dataDir) => {
    const stale = join(dataDir, '..', 'stale.token');
    writeFileSync(stale, `${'0'.repeat(64)}\n`);
    const client = new ControlClient(await locateDaemon({ dataDir, tokenFile: stale }), { clock: new SystemClock() });
    await assert.rejects(client.status(), (err: Error) => err instanceof ApiUnauthorizedError && err.name === 'ApiUnauthorizedError' && err.message.includes(stale));
  });
});

test('no api.json (no daemon on that data dir, or a missing dir): DaemonUnreachableError naming the file', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(locateDaemon({ dataDir: dir }), isUnreachable(new RegExp(`${dir}/api\\.json does not exist`), /--data-dir or PACE_DATA_DIR/));
    await assert.rejects(locateDaemon({ dataDir: join(dir, 'nope') }), isUnreachable(/nope\/api\.json/, /does not exist/));
    writeFileSync(join(dir, 'api.json'), '{"port": 1}');
    await assert.rejects(locateDaemon({ dataDir: dir }), isUnreachable(/api\.json/, /not a control API endpoint file/));
  });
});

test('api.json present but the token missing or unreadable: ApiCredentialsError', async () => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'api.json'), '{"url":"http://127.0.0.1:1"}');
    await assert.rejects(locateDaemon({ dataDir: dir }), (err: Error) => err instanceof ApiCredentialsError && /api\.token: no such file/.test(err.message));
    writeFileSync(join(dir, 'api.token'), '\n');
    await assert.rejects(locateDaemon({ dataDir: dir }), (err: Error) => err instanceof ApiCredentialsError && /is empty/.test(err.message));
    if (process.getuid?.() !== 0) {
      writeFileSync(join(dir, 'api.token'), 'abc\n');
      chmodSync(join(dir, 'api.token'), 0o000);
      await assert.rejects(locateDaemon({ dataDir: dir }), (err: Error) => err instanceof ApiCredentialsError && /permission denied/.test(err.message));
    }
  });
});

test('a refused port: DaemonUnreachableError naming the URL and the api.json it came from', async () => {
  await withTempDir(async (dir) => {
    const port = await freePort();
    writeFileSync(join(dir, 'api.json'), JSON.stringify({ url: `http://127.0.0.1:${port}` }));
    writeFileSync(join(dir, 'api.token'), 'abc\n');
    const client = new ControlClient(await locateDaemon({ dataDir: dir }), { clock: new SystemClock() });
    await assert.rejects(client.status(), isUnreachable(new RegExp(`http://127\\.0\\.0\\.1:${port} \\(from ${dir}/api\\.json\\)`), /connection refused/));
  });
});

test('a socket that does not exist: DaemonUnreachableError', async () => {
  await withTempDir(async (dir) => {
    writeFileSync(join(dir, 'api.token'), 'abc\n');
    const socket = join(dir, 'gone.sock');
    const client = new ControlClient(await locateDaemon({ dataDir: dir, endpoint: { socket } }), { clock: new SystemClock() });
    await assert.rejects(client.members(), isUnreachable(new RegExp(`unix:${socket}`), /socket does not exist/));
  });
});

test('no answer within the timeout (virtual clock): DaemonUnreachableError', async () => {
  await withTempDir(async (dir) => {
    const sockets: Socket[] = [];
    const silent = createNetServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      writeFileSync(join(dir, 'api.token'), 'abc\n');
      const clock = new ManualClock();
      const client = new ControlClient(await locateDaemon({ dataDir: dir, endpoint: { url: `http://127.0.0.1:${port}` } }), { clock }, { timeoutMs: 2_000 });
      const pending = client.status();
      await waitUntil(() => sockets.length === 1, 'the client connected');
      clock.advance(1_999);
      clock.advance(1);
      await assert.rejects(pending, isUnreachable(new RegExp(`127\\.0\\.0\\.1:${port}`), /no answer within 2000 ms/));
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

test('a caller\'s abort signal rejects with its reason, not as unreachable', async () => {
  await withDaemon({ port: 0 }, async (client) => {
    const controller = new AbortController();
    controller.abort(new Error('user gave up'));
    await assert.rejects(client.status({ signal: controller.signal }), /user gave up/);
  });
});

/** A port nothing listens on: bind one, note it, close it. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

