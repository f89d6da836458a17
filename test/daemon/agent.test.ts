/**
 * One real agent in this process (libp2p on 127.0.0.1, FileStorage, the control API): what
 * `pace agent` composes, driven through the same API client the CLI uses. Several agents and
 * signals are covered by the end-to-end tests under test/agent/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import '../../src/shim/index.js';
import { resolveConfig, type ResolvedConfig } from '../../src/config/agent-config.js';
import { ControlClient } from '../../src/api/control-client.js';
import { locateDaemon } from '../../src/api/locate-daemon.js';
import { ApiListenError } from '../../src/api/errors.js';
import { startAgent, type Agent } from '../../src/daemon/agent.js';
import { SystemClock } from '../../src/seams/system-clock.js';
import { formatPublicKeyLine, generateOperatorKey } from '../../src/signing/operator-key.js';
import { signPolicy } from '../../src/signing/signed-policy.js';
import { waitUntil } from '../support/wait.js';

const operator = generateOperatorKey('ops');
const other = generateOperatorKey('other');

function config(dataDir: string, overrides: { trustedKey: string; zone: string; apiPort?: number }): ResolvedConfig {
  const fileText = [
    'nodeName: solo',
    'clusterName: agent-test',
    `dataDir: ${dataDir}`,
    'listen: [/ip4/127.0.0.1/tcp/0]',
    'mdns: { enabled: false }',
    `trustedKeys: ["${overrides.trustedKey}"]`,
    `labels: { zone: ${overrides.zone} }`,
    `api: { port: ${overrides.apiPort ?? 0} }`,
    'membership: { profile: local }',
    'logLevel: warn',
  ].join('\n');
  const result = resolveConfig({ fileText, host: { hostname: 'host', facts: { cpus: 2, memoryMB: 4096, diskGB: 20, arch: 'amd64' } } });
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  return result.resolved;
}

function policy(version: number): string {
  return `apiVersion: pace/v1
kind: ClusterPolicy
metadata: { name: solo, version: ${version} }
spec:
  driver: { name: log }
  managers: { count: [ { atLeast: 1, managers: 1 } ], alsoWorker: true }
  timing: { stabilization: 0s, failureGrace: 0s }
`;
}

function signed(version: number, key = operator): unknown {
  const r = signPolicy(policy(version), key);
  assert.ok(r.ok);
  return r.envelope;
}

describe('the agent, in process', () => {
  let dir: string;
  let agent: Agent;
  let client: ControlClient;
  const logs = new PassThrough();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pace-agent-'));
    agent = await startAgent(config(dir, { trustedKey: formatPublicKeyLine(operator.publicKey), zone: 'a' }), { version: 'test', destination: logs });
    client = new ControlClient(await locateDaemon({ dataDir: dir }), { clock: new SystemClock() });
  });

  after(async () => {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves its status over the control API, with no policy yet', async () => {
    const status = await client.status();
    assert.equal(status.node.name, 'solo');
    assert.equal(status.node.id, agent.node.self);
    assert.equal(status.policy, null);
    assert.equal(status.role, null);
  });

  it('takes the role a trusted policy gives it', async () => {
    assert.deepEqual(await client.applyPolicy(signed(1)), { accepted: true, name: 'solo', version: 1 });
    await waitUntil(async () => (await client.status()).role === 'manager+worker', 'the node takes its role', 30_000);
    const [me] = await client.members();
    assert.equal(me?.labels.zone, 'a');
  });

  it('a reload replaces trusted keys and labels; the active policy stays', async () => {
    await agent.reload(config(dir, { trustedKey: formatPublicKeyLine(other.publicKey), zone: 'b' }));
    const refused = await client.applyPolicy(signed(2, operator));
    assert.equal(refused.accepted, false);
    assert.equal((refused as { code: string }).code, 'untrusted-signer');
    assert.equal((await client.status()).policy?.version, 1);
    assert.deepEqual(await client.applyPolicy(signed(2, other)), { accepted: true, name: 'solo', version: 2 });
    await waitUntil(async () => (await client.members())[0]?.labels.zone === 'b', 'the new label is in the member record', 30_000);
  });

  it('refuses to start when its API port is taken, and leaves nothing running', async () => {
    const endpoint = (await locateDaemon({ dataDir: dir })).endpoint;
    assert.ok('url' in endpoint);
    const port = Number(new URL(endpoint.url).port);
    const second = mkdtempSync(join(tmpdir(), 'pace-agent-'));
    try {
      await assert.rejects(
        startAgent(config(second, { trustedKey: formatPublicKeyLine(operator.publicKey), zone: 'a', apiPort: port }), { version: 'test', destination: new PassThrough() }),
        ApiListenError,
      );
    } finally {
      rmSync(second, { recursive: true, force: true });
    }
  });
});
