/** Host fact detection: OS readings mapped to policy facts; config overrides win. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../src/config/agent-config.js';
import { archName, detectHostInfo, systemProbe, type HostProbe } from '../../src/config/detect-facts.js';

const probe: HostProbe = {
  hostname: () => 'edge-9',
  cpus: () => 8,
  memoryBytes: () => 4 * 2 ** 30 + 123,
  diskBytes: () => 64 * 2 ** 30 + 5,
  arch: () => 'x64',
};

test('readings become whole MiB, whole GiB and Go/OCI arch names', () => {
  assert.deepEqual(detectHostInfo('/var/lib/pace', probe), { hostname: 'edge-9', facts: { cpus: 8, memoryMB: 4096, diskGB: 64, arch: 'amd64' } });
  assert.equal(archName('arm64'), 'arm64');
  assert.equal(archName('ia32'), '386');
  assert.equal(archName('weird'), 'weird');
});

test('a failing probe reports 0 (cpus at least 1) instead of throwing', () => {
  const broken: HostProbe = { ...probe, diskBytes: () => { throw new Error('statfs failed'); }, cpus: () => Number.NaN };
  const info = detectHostInfo('/nowhere', broken);
  assert.equal(info.facts.diskGB, 0);
  assert.equal(info.facts.cpus, 1);
});

test('the real probe reads this machine (disk of a missing dir uses its parent)', () => {
  const info = detectHostInfo('/tmp/does/not/exist', systemProbe);
  assert.ok(info.hostname.length > 0);
  assert.ok(info.facts.cpus >= 1);
  assert.ok(info.facts.memoryMB > 0);
  assert.ok(info.facts.diskGB >= 0);
});

test('overrides from any source replace detected facts one by one', () => {
  const host = detectHostInfo('/x', probe);
  const r = resolveConfig({ host, fileText: 'facts: { memoryMB: 1024 }\n', env: { PACE_ARCH: 'arm64' }, flags: { 'disk-gb': '10' } });
  assert.ok(r.ok);
  assert.deepEqual(r.resolved.facts, { cpus: 8, memoryMB: 1024, diskGB: 10, arch: 'arm64' });
});
