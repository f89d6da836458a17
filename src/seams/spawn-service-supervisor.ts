import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from './clock.js';
import { ProcessStartError } from './process-runner.js';
import { DEFAULT_SERVICE_GRACE_MS, type ServiceSpec, type ServiceSupervisor } from './service-supervisor.js';

/** How often `stop` looks whether the service has exited. */
const POLL_MS = 50;

/**
 * Runs services as detached children (own process group, stdin closed, output appended to the
 * log file, not waited for by the daemon's event loop) and tracks them by pid file and
 * `/proc/<pid>/cmdline` — which also works for a service started by an earlier daemon process.
 */
export class SpawnServiceSupervisor implements ServiceSupervisor {
  readonly #clock: Clock;

  constructor(components: { clock: Clock }) {
    this.#clock = components.clock;
  }

  async start(spec: ServiceSpec): Promise<{ pid: number; alreadyRunning: boolean }> {
    const existing = await this.running(spec);
    if (existing !== undefined) return { pid: existing, alreadyRunning: true };
    await mkdir(dirname(spec.logFile), { recursive: true });
    await mkdir(dirname(spec.pidFile), { recursive: true });
    const out = openSync(spec.logFile, 'a');
    let pid: number;
    try {
      pid = await new Promise<number>((resolve, reject) => {
        const child = spawn(spec.command, spec.args, { env: { ...process.env, ...spec.env }, stdio: ['ignore', out, out], detached: true, shell: false });
        child.once('error', (err) => reject(new ProcessStartError(spec.command, err)));
        child.once('spawn', () => {
          child.unref();
          resolve(child.pid as number);
        });
      });
    } finally {
      closeSync(out);
    }
    await writeFile(spec.pidFile, `${pid}\n`);
    return { pid, alreadyRunning: false };
  }

  async running(spec: Pick<ServiceSpec, 'pidFile' | 'marker'>): Promise<number | undefined> {
    let pid: number;
    try {
      pid = Number.parseInt(await readFile(spec.pidFile, 'utf8'), 10);
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return (await alive(pid, spec.marker)) ? pid : undefined;
  }

  async stop(spec: Pick<ServiceSpec, 'pidFile' | 'marker'>, options: { graceMs?: number } = {}): Promise<void> {
    const pid = await this.running(spec);
    if (pid !== undefined) {
      signal(pid, 'SIGTERM');
      const deadline = this.#clock.now() + (options.graceMs ?? DEFAULT_SERVICE_GRACE_MS);
      let killed = false;
      while (await alive(pid, spec.marker)) {
        if (!killed && this.#clock.now() >= deadline) {
          signal(pid, 'SIGKILL');
          killed = true;
        }
        await this.#clock.sleep(POLL_MS);
      }
    }
    await rm(spec.pidFile, { force: true });
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Alive (not a zombie) and its command line contains `marker`. */
async function alive(pid: number, marker: string): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}
