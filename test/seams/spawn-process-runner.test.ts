import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/seams/manual-clock.js';
import { KILL_GRACE_MS, ProcessStartError } from '../../src/seams/process-runner.js';
import { SpawnProcessRunner } from '../../src/seams/spawn-process-runner.js';
import { SystemClock } from '../../src/seams/system-clock.js';

const runner = new SpawnProcessRunner({ clock: new SystemClock() });
const sh = (script: string, ...args: string[]) => ({ command: '/bin/sh', args: ['-c', script, 'sh', ...args] });

describe('SpawnProcessRunner', () => {
  it('reports the exit code and both output streams', async () => {
    const result = await runner.run(sh('echo out; echo err >&2; exit 3'));
    assert.equal(result.exitCode, 3);
    assert.equal(result.signal, null);
    assert.equal(result.stdout, 'out\n');
    assert.equal(result.stderr, 'err\n');
    assert.equal(result.timedOut, false);
    assert.equal(result.truncated, false);
    assert.ok(result.durationMs >= 0);
  });

  it('passes arguments verbatim, without a shell', async () => {
    const result = await runner.run({ command: 'printf', args: ['%s|', '$HOME', 'a b', '*'] });
    assert.equal(result.stdout, '$HOME|a b|*|');
  });

  it('merges env over the daemon environment and honours cwd', async () => {
    const result = await runner.run({ ...sh('echo "$PACE_TEST_VAR:$(pwd)"'), env: { PACE_TEST_VAR: 'hi' }, cwd: '/' });
    assert.equal(result.stdout, 'hi:/\n');
  });

  it('writes input to stdin and then closes it', async () => {
    const result = await runner.run({ command: 'cat', input: 'hello\nworld' });
    assert.equal(result.stdout, 'hello\nworld');
    const bin = await runner.run({ command: 'wc', args: ['-c'], input: new Uint8Array(1000) });
    assert.equal(bin.stdout.trim(), '1000');
  });

  it('closes stdin at once when there is no input', async () => {
    const result = await runner.run({ command: 'cat' });
    assert.equal(result.exitCode, 0);
    assert.equal(result.stdout, '');
  });

  it('keeps the first maxOutputBytes of each stream and marks the result truncated', async () => {
    const result = await runner.run({ ...sh('head -c 100000 /dev/zero | tr "\\0" a; echo short >&2'), maxOutputBytes: 10 });
    assert.equal(result.stdout, 'a'.repeat(10));
    assert.equal(result.stderr, 'short\n'.slice(0, 10));
    assert.equal(result.truncated, true);
    assert.equal(result.exitCode, 0); // read to the end, not killed
  });

  it('kills a child that overruns its timeout, including what its shell started', async () => {
    const result = await runner.run({ ...sh('sleep 30; echo never'), timeoutMs: 200 });
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, null);
    assert.equal(result.signal, 'SIGTERM');
    assert.equal(result.stdout, '');
  });

  it('follows SIGTERM with SIGKILL after the grace period (driven by the injected clock)', async () => {
    const clock = new ManualClock();
    const manual = new SpawnProcessRunner({ clock });
    const dir = await mkdtemp(join(tmpdir(), 'pace-spawn-'));
    const ready = join(dir, 'ready');
    try {
      // The shell (and, by inheritance, its sleeps) ignores SIGTERM; the file says the trap is set.
      const running = manual.run({ ...sh('trap "" TERM; : > "$1"; while :; do sleep 1; done', ready), timeoutMs: 1_000 });
      await pollUntil(() => existsSync(ready));
      clock.advance(1_000); // timeout: SIGTERM, ignored
      clock.advance(KILL_GRACE_MS); // grace over: SIGKILL
      const result = await running;
      assert.equal(result.timedOut, true);
      assert.equal(result.signal, 'SIGKILL');
      assert.equal(result.durationMs, 1_000 + KILL_GRACE_MS);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects with ProcessStartError when the command does not exist or cannot be executed', async () => {
    await assert.rejects(runner.run({ command: '/nonexistent/pace-no-such-command' }), (err: unknown) => {
      assert.ok(err instanceof ProcessStartError);
      assert.equal(err.name, 'ProcessStartError');
      assert.equal((err.cause as { code?: string }).code, 'ENOENT');
      return true;
    });
    const dir = await mkdtemp(join(tmpdir(), 'pace-spawn-'));
    try {
      const notExecutable = join(dir, 'script');
      await writeFile(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
      await assert.rejects(runner.run({ command: notExecutable }), (err: unknown) => {
        assert.ok(err instanceof ProcessStartError);
        assert.equal((err.cause as { code?: string }).code, 'EACCES');
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('kills the child and rejects with the reason when aborted', async () => {
    const controller = new AbortController();
    const running = runner.run(sh('echo started; sleep 30'), { signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await assert.rejects(running, /shutting down/);
  });

  it('rejects at once, starting nothing, when the signal is already aborted', async () => {
    await assert.rejects(runner.run(sh('exit 0'), { signal: AbortSignal.abort(new Error('early')) }), /early/);
  });
});

/** Polls `condition` on real time until it holds (no bound: the test runner's timeout is the bound). */
async function pollUntil(condition: () => boolean): Promise<void> {
  const clock = new SystemClock();
  while (!condition()) await clock.sleep(10);
}
