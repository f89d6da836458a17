/**
 * ProcessRunner and ServiceSupervisor wrappers that run every command inside a network
 * namespace (`ip netns exec NS command …`; ip execs the command, so pids are the command's).
 */
import type { ProcessRequest, ProcessResult, ProcessRunner } from '../../src/seams/process-runner.js';
import type { ServiceSpec, ServiceSupervisor } from '../../src/seams/service-supervisor.js';

export class NetnsProcessRunner implements ProcessRunner {
  constructor(private readonly inner: ProcessRunner, private readonly ns: string) {}

  run(request: ProcessRequest, options?: { signal?: AbortSignal }): Promise<ProcessResult> {
    return this.inner.run({ ...request, command: 'ip', args: ['netns', 'exec', this.ns, request.command, ...(request.args ?? [])] }, options);
  }
}

export class NetnsServiceSupervisor implements ServiceSupervisor {
  constructor(private readonly inner: ServiceSupervisor, private readonly ns: string) {}

  start(spec: ServiceSpec): Promise<{ pid: number; alreadyRunning: boolean }> {
    return this.inner.start({ ...spec, command: 'ip', args: ['netns', 'exec', this.ns, spec.command, ...spec.args] });
  }

  running(spec: Pick<ServiceSpec, 'pidFile' | 'marker'>): Promise<number | undefined> {
    return this.inner.running(spec);
  }

  stop(spec: Pick<ServiceSpec, 'pidFile' | 'marker'>, options?: { graceMs?: number }): Promise<void> {
    return this.inner.stop(spec, options);
  }
}
