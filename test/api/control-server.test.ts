/**
 * The control API server over a fake NodeControl: files in the data dir, auth, routes, error
 * statuses, a throwing handler, the policy verdict mapping, leave, the unix socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import type { ApiEndpoint } from '../../src/api/api-files.js';
import { ControlServer, DEFAULT_MAX_BODY_BYTES, type ControlServerInit } from '../../src/api/control-server.js';
import { ApiListenError } from '../../src/api/errors.js';
import { FileStorage } from '../../src/seams/file-storage.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { FakeNodeControl, sampleMembers } from '../support/fake-node-control.js';
import { RecordingLogger } from '../support/recording-logger.js';

interface Harness {
  dir: string;
  server: ControlServer;
  control: FakeNodeControl;
  logger: RecordingLogger;
  token: () => string;
}

async function withServer(init: ControlServerInit, fn: (h: Harness) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pace-api-'));
  const control = new FakeNodeControl();
  const logger = new RecordingLogger();
  const server = new ControlServer({ control, storage: new FileStorage(dir), random: new SeededRandom(7), logger }, init);
  try {
    await server.start();
    await fn({ dir, server, control, logger, token: () => readFileSync(join(dir, 'api.token'), 'utf8').trim() });
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** One HTTP request with node:http (works for TCP and unix sockets). */
function call(endpoint: ApiEndpoint, method: string, path: string, options: { token?: string; body?: string | Buffer } = {}): Promise<Answer> {
  const target = 'url' in endpoint ? { host: '127.0.0.1', port: Number(new URL(endpoint.url).port) } : { socketPath: endpoint.socket };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, method, path, agent: false, headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function endpointOf(h: Harness): ApiEndpoint {
  const e = h.server.endpoint;
  assert.ok(e, 'server has an endpoint while started');
  return e;
}

test('start writes a 64-hex token (mode 0600) and api.json with the loopback URL; stop removes api.json', async () => {
  let dir = '';
  await withServer({}, async (h) => {
    dir = h.dir;
    assert.match(h.token(), /^[0-9a-f]{64}$/);
    assert.equal(statSync(join(h.dir, 'api.token')).mode & 0o777, 0o600);
    const file = JSON.parse(readFileSync(join(h.dir, 'api.json'), 'utf8')) as { url: string };
    assert.match(file.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(h.server.endpoint, file);
    await h.server.stop();
    assert.equal(existsSync(join(h.dir, 'api.json')), false);
    assert.equal(h.server.endpoint, undefined);
    await h.server.stop(); // idempotent
  });
  assert.notEqual(dir, '');
});

test('start and stop are idempotent; a restart writes a new token and the old one stops working', async () => {
  await withServer({}, async (h) => {
    const first = h.token();
    await h.server.start(); // no-op: same token, same endpoint
    assert.equal(h.token(), first);
    await h.server.stop();
    await h.server.start();
    const second = h.token();
    assert.notEqual(second, first);
    assert.equal((await call(endpointOf(h), 'GET', '/v1/status', { token: first })).status, 401);
    assert.equal((await call(endpointOf(h), 'GET', '/v1/status', { token: second })).status, 200);
  });
});

test('a missing or wrong token is 401 on every path, known or not', async () => {
  await withServer({}, async (h) => {
    for (const [method, path] of [['GET', '/v1/status'], ['POST', '/v1/policy'], ['POST', '/v1/leave'], ['GET', '/nope']] as const) {
      for (const token of [undefined, 'wrong', `${h.token()}x`]) {
        const r = await call(endpointOf(h), method, path, { token });
        assert.equal(r.status, 401, `${method} ${path} with ${String(token)}`);
        assert.equal(r.headers['www-authenticate'], 'Bearer');
        assert.deepEqual(Object.keys(r.body as object).sort(), ['code', 'reason']);
        assert.equal((r.body as { code: string }).code, 'unauthorized');
      }
    }
    assert.equal(h.control.leaves, 0, 'an unauthorised leave did nothing');
    assert.equal(h.control.applied.length, 0);
  });
});

test('GET routes return what the node reports', async () => {
  await withServer({}, async (h) => {
    const token = h.token();
    const status = await call(endpointOf(h), 'GET', '/v1/status', { token });
    assert.equal(status.status, 200);
    assert.match(String(status.headers['content-type']), /^application\/json/);
    assert.deepEqual(status.body, h.control.status());
    assert.deepEqual((await call(endpointOf(h), 'GET', '/v1/members', { token })).body, sampleMembers());
    assert.deepEqual((await call(endpointOf(h), 'GET', '/v1/policy', { token })).body, h.control.active);
    h.control.active = null;
    const none = await call(endpointOf(h), 'GET', '/v1/policy', { token });
    assert.equal(none.status, 200);
    assert.equal(none.body, null);
    assert.equal((await call(endpointOf(h), 'GET', '/v1/status?verbose=1', { token })).status, 200, 'a query string does not change the route');
  });
});

test('unknown routes are 404; a known route with the wrong method is 405 with Allow', async () => {
  await withServer({}, async (h) => {
    const token = h.token();
    const missing = await call(endpointOf(h), 'GET', '/v2/status', { token });
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { code: 'not-found', reason: 'no route /v2/status' });
    const wrong = await call(endpointOf(h), 'DELETE', '/v1/policy', { token });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers['allow'], 'GET, POST');
    assert.equal((wrong.body as { code: string }).code, 'method-not-allowed');
    assert.equal((await call(endpointOf(h), 'GET', '/v1/leave', { token })).headers['allow'], 'POST');
    assert.equal((await call(endpointOf(h), 'POST', '/v1/status', { token })).status, 405);
    assert.equal(h.control.leaves, 0);
  });
});

test('bodies over the cap are 413 and never reach the node (configured cap and the 1 MiB default)', async () => {
  await withServer({ maxBodyBytes: 1024 }, async (h) => {
    const big = JSON.stringify({ name: 'x', version: 9, signature: 'good', pad: 'y'.repeat(2048) });
    const r = await call(endpointOf(h), 'POST', '/v1/policy', { token: h.token(), body: big });
    assert.equal(r.status, 413);
    assert.equal((r.body as { code: string }).code, 'payload-too-large');
    assert.equal(h.control.applied.length, 0);
    const small = await call(endpointOf(h), 'POST', '/v1/policy', { token: h.token(), body: JSON.stringify({ name: 'x', version: 9, signature: 'good' }) });
    assert.equal(small.status, 200, 'the server still serves after a 413');
  });
  await withServer({}, async (h) => {
    const r = await call(endpointOf(h), 'POST', '/v1/policy', { token: h.token(), body: Buffer.alloc(DEFAULT_MAX_BODY_BYTES + 1, 0x20) });
    assert.equal(r.status, 413);
    assert.equal(h.control.applied.length, 0);
  });
});

test('a body that is not JSON (or empty) is 400 with the parser\'s message', async () => {
  await withServer({}, async (h) => {
    const bad = await call(endpointOf(h), 'POST', '/v1/policy', { token: h.token(), body: '{"name": ' });
    assert.equal(bad.status, 400);
    const body = bad.body as { code: string; reason: string };
    assert.equal(body.code, 'bad-request');
    assert.match(body.reason, /^request body is not JSON: /);
    const empty = await call(endpointOf(h), 'POST', '/v1/policy', { token: h.token() });
    assert.equal(empty.status, 400);
    assert.match((empty.body as { reason: string }).reason, /empty/);
    assert.equal(h.control.applied.length, 0);
  });
});

test('a handler that throws is a 500 with its message, logged, and the server keeps serving', async () => {
  await withServer({}, async (h) => {
    h.control.failing.add('status');
    h.control.failing.add('applyPolicy');
    const r = await call(endpointOf(h), 'GET', '/v1/status', { token: h.token() });
    assert.equal(r.status, 500);
    assert.deepEqual(r.body, { code: 'internal', reason: 'status exploded' });
    const a = await call(endpointOf(h), 'POST', '/v1/policy', { token: h.token(), body: '{}' });
    assert.deepEqual(a.body, { code: 'internal', reason: 'applyPolicy exploded' });
    const errors = h.logger.at('error');
    assert.equal(errors.length, 2);
    assert.equal(errors[0]?.obj['path'], '/v1/status');
    assert.equal(errors[0]?.obj['err'], 'status exploded');
    assert.equal((await call(endpointOf(h), 'GET', '/v1/members', { token: h.token() })).status, 200);
    h.control.failing.clear();
    assert.equal((await call(endpointOf(h), 'GET', '/v1/status', { token: h.token() })).status, 200);
  });
});

test('POST /v1/policy: accepted is 200 {accepted,name,version}; rejected is 422 {code,reason}', async () => {
  await withServer({}, async (h) => {
    const post = (envelope: unknown): Promise<Answer> => call(endpointOf(h), 'POST', '/v1/policy', { token: h.token(), body: JSON.stringify(envelope) });
    const ok = await post({ name: 'site-ha', version: 4, signature: 'good' });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { accepted: true, name: 'site-ha', version: 4 });
    assert.deepEqual(h.control.applied[0], { name: 'site-ha', version: 4, signature: 'good' }, 'the node receives the parsed envelope');
    const forged = await post({ name: 'site-ha', version: 5, signature: 'forged' });
    assert.equal(forged.status, 422);
    assert.deepEqual(forged.body, { code: 'bad-signature', reason: 'the signature does not verify with trusted key a1b2c3d4e5f60718' });
    const stale = await post({ name: 'site-ha', version: 4, signature: 'good' });
    assert.equal(stale.status, 422);
    assert.equal((stale.body as { code: string }).code, 'stale-version');
    assert.equal((await post([1, 2])).status, 422, 'JSON that is not an envelope is the node\'s call (malformed)');
  });
});

test('POST /v1/leave calls leave once and answers {left:true}', async () => {
  await withServer({}, async (h) => {
    const r = await call(endpointOf(h), 'POST', '/v1/leave', { token: h.token() });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { left: true });
    assert.equal(h.control.leaves, 1);
  });
});

/** Leaves a socket file nobody listens on, as a daemon killed with SIGKILL does. */
function staleSocket(path: string): void {
  const script = `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  spawnSync(process.execPath, ['-e', script]);
  assert.ok(statSync(path).isSocket(), 'the stale socket file exists');
}

test('a unix socket: api.json names it, mode 0600, a stale socket is replaced, stop removes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pace-api-sock-'));
  const socket = join(dir, 'api.sock');
  try {
    staleSocket(socket);
    await withServer({ listen: { socket } }, async (h) => {
      assert.deepEqual(JSON.parse(readFileSync(join(h.dir, 'api.json'), 'utf8')), { socket });
      assert.equal(statSync(socket).mode & 0o777, 0o600);
      const r = await call({ socket }, 'GET', '/v1/status', { token: h.token() });
      assert.equal(r.status, 200);
      await h.server.stop();
      assert.equal(existsSync(socket), false);
      assert.equal(existsSync(join(h.dir, 'api.json')), false);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function serverOn(dataDir: string, listen: ControlServerInit['listen']): ControlServer {
  return new ControlServer({ control: new FakeNodeControl(), storage: new FileStorage(dataDir), random: new SeededRandom(1), logger: new RecordingLogger() }, { listen });
}

test('a live socket, a regular file at the socket path, or a port in use: ApiListenError, nothing replaced or written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pace-api-busy-'));
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'busy.sock');
  const other = createNetServer();
  await new Promise<void>((resolve) => other.listen(socket, resolve));
  const tcp = createNetServer();
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as { port: number }).port;
  const plainFile = join(dir, 'not-a-socket');
  writeFileSync(plainFile, 'precious');
  try {
    const isListenError = (where: string) => (err: Error) => err instanceof ApiListenError && err.name === 'ApiListenError' && err.message.includes(where);
    const live = serverOn(dataDir, { socket });
    await assert.rejects(live.start(), isListenError(socket));
    await live.stop(); // never started: a no-op
    await assert.rejects(serverOn(dataDir, { socket: plainFile }).start(), isListenError(plainFile));
    assert.equal(readFileSync(plainFile, 'utf8'), 'precious');
    await assert.rejects(serverOn(dataDir, { port }).start(), isListenError(`127.0.0.1:${port}`));
    assert.equal(existsSync(join(dataDir, 'api.json')), false);
  } finally {
    other.close();
    tcp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
