/** The exec driver runs real hook scripts with the documented contract (docs/HOOKS.md). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecDriver, HookFailedError } from '../../src/drivers/exec-driver.js';
import { parseExecSettings, type ExecSettings } from '../../src/policy/driver-settings/exec.js';
import { SpawnProcessRunner } from '../../src/seams/spawn-process-runner.js';
import { SystemClock } from '../../src/seams/system-clock.js';
import { RecordingLogger } from '../support/recording-logger.js';

describe('exec driver', () => {
  let dir: string;
  let settings: ExecSettings;
  let driver: ExecDriver;

  const hook = (name: string, body: string): void => {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pace-hooks-'));
    settings = { hooksDir: dir, timeoutMs: 10_000 };
    driver = new ExecDriver(() => settings, { runner: new SpawnProcessRunner({ clock: new SystemClock() }), logger: new RecordingLogger(), self: () => 'node-a' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the role hook with the role in the environment and the event as JSON on stdin', async () => {
    hook('role', `echo "$PACE_EVENT $PACE_ROLE $PACE_SELF" > "${dir}/role.env"; cat > "${dir}/role.stdin"`);
    await driver.ensure('manager+worker', {});
    assert.equal(readFileSync(join(dir, 'role.env'), 'utf8'), 'role manager+worker node-a\n');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'role.stdin'), 'utf8')), { event: 'role', self: 'node-a', members: [], role: 'manager+worker' });
  });

  it('a missing hook means there is nothing to do', async () => {
    assert.deepEqual(await driver.changeControlPlane({ kind: 'demote', node: 'node-a', actor: 'node-a' }, ['node-a', 'node-b'], {}), ['node-b']);
  });

  it('a control-plane hook may report the member list; otherwise PACE computes it', async () => {
    hook('promote', `echo "$PACE_NODE $PACE_MEMBERS" > "${dir}/promote.env"; echo '["node-b","node-a","node-c"]'`);
    assert.deepEqual(await driver.changeControlPlane({ kind: 'promote', node: 'node-a', actor: 'node-a' }, ['node-b'], {}), ['node-a', 'node-b', 'node-c']);
    assert.equal(readFileSync(join(dir, 'promote.env'), 'utf8'), 'node-a node-b\n');
    hook('bootstrap', 'echo "initialised"');
    assert.deepEqual(await driver.changeControlPlane({ kind: 'bootstrap', node: 'node-a', actor: 'node-a' }, [], {}), ['node-a']);
  });

  it('a failing hook is an error naming the hook, its exit code and the end of its stderr', async () => {
    hook('remove', 'echo "etcdctl: cluster unhealthy" >&2; exit 3');
    await assert.rejects(driver.changeControlPlane({ kind: 'remove', node: 'node-x', actor: 'node-a' }, ['node-a', 'node-x'], {}), (err: unknown) => {
      assert.ok(err instanceof HookFailedError);
      assert.match(err.message, /hook .*remove exited 3: etcdctl: cluster unhealthy/);
      return true;
    });
  });

  it('a hook that runs past its timeout is killed and reported', async () => {
    hook('role', 'sleep 30');
    settings = { hooksDir: dir, timeoutMs: 200 };
    await assert.rejects(driver.ensure('worker', {}), /timed out/);
  });

  it('settings: hooksDir must be absolute, timeout a positive duration, nothing else', () => {
    assert.deepEqual(parseExecSettings({ hooksDir: '/etc/pace/hooks', timeout: '30s' }), { hooksDir: '/etc/pace/hooks', timeoutMs: 30_000 });
    const bad = parseExecSettings({ hooksDir: 'hooks', timeout: '0s', extra: 1 });
    assert.ok(Array.isArray(bad));
    assert.deepEqual(bad.map(([field]) => field).sort(), ['extra', 'hooksDir', 'timeout']);
  });
});
