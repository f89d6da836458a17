/** The real ServiceSupervisor: detached service, found again by pid file + marker, stopped by pid. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpawnServiceSupervisor } from '../../src/seams/spawn-service-supervisor.js';
import { SystemClock } from '../../src/seams/system-clock.js';

describe('SpawnServiceSupervisor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pace-svc-'));
  const supervisor = new SpawnServiceSupervisor({ clock: new SystemClock() });
  const marker = join(dir, 'svc-marker');
  const spec = { command: process.execPath, args: ['-e', 'console.log("up"); setInterval(() => {}, 1000)', marker], pidFile: join(dir, 'svc.pid'), logFile: join(dir, 'svc.log'), marker };
  after(async () => {
    await supervisor.stop(spec, { graceMs: 500 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts once, reports it running, and a second start finds it', async () => {
    const first = await supervisor.start(spec);
    assert.equal(first.alreadyRunning, false);
    assert.equal(Number(readFileSync(spec.pidFile, 'utf8')), first.pid);
    assert.equal(await supervisor.running(spec), first.pid);
    // A fresh supervisor (a restarted daemon) finds the same process through the pid file.
    const again = await new SpawnServiceSupervisor({ clock: new SystemClock() }).start(spec);
    assert.deepEqual(again, { pid: first.pid, alreadyRunning: true });
    // Its output goes to the log file.
    for (let i = 0; i < 100 && !readFileSync(spec.logFile, 'utf8').includes('up'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(readFileSync(spec.logFile, 'utf8').includes('up'));
  });

  it('stop ends it and removes the pid file; a pid file naming another process is not the service', async () => {
    await supervisor.stop(spec, { graceMs: 2_000 });
    assert.equal(await supervisor.running(spec), undefined);
    assert.ok(!existsSync(spec.pidFile));
    writeFileSync(spec.pidFile, `${process.pid}\n`); // alive, but its command line lacks the marker
    assert.equal(await supervisor.running(spec), undefined);
  });
});
