import type { ServiceSpec, ServiceSupervisor } from './service-supervisor.js';

/**
 * A {@link ServiceSupervisor} for unit tests: starts nothing, records every start and stop,
 * and keeps which services "run" by pid file. `crash(pidFile)` makes one stop as if killed.
 */
export class FakeServiceSupervisor implements ServiceSupervisor {
  readonly starts: ServiceSpec[] = [];
  readonly stops: string[] = [];
  readonly #running = new Map<string, number>();
  #nextPid = 1000;

  start(spec: ServiceSpec): Promise<{ pid: number; alreadyRunning: boolean }> {
    const existing = this.#running.get(spec.pidFile);
    if (existing !== undefined) return Promise.resolve({ pid: existing, alreadyRunning: true });
    this.starts.push({ ...spec, args: spec.args.slice() });
    const pid = this.#nextPid++;
    this.#running.set(spec.pidFile, pid);
    return Promise.resolve({ pid, alreadyRunning: false });
  }

  running(spec: Pick<ServiceSpec, 'pidFile'>): Promise<number | undefined> {
    return Promise.resolve(this.#running.get(spec.pidFile));
  }

  stop(spec: Pick<ServiceSpec, 'pidFile'>): Promise<void> {
    if (this.#running.delete(spec.pidFile)) this.stops.push(spec.pidFile);
    return Promise.resolve();
  }

  crash(pidFile: string): void {
    this.#running.delete(pidFile);
  }
}
