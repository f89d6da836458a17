/**
 * ServiceSupervisor seam: how drivers run long-lived programs (an etcd server) that outlive a
 * single command. The real one ({@link SpawnServiceSupervisor}) spawns detached children and
 * keeps each one's pid in a pid file, so a PACE daemon restarted after a crash finds — and can
 * stop — the service its previous incarnation started; tests use {@link FakeServiceSupervisor}.
 *
 * A service is identified by its `pidFile`; `marker` (a string its command line contains, e.g.
 * its data directory) guards against a recycled pid being mistaken for the service.
 */
export interface ServiceSpec {
  command: string;
  args: readonly string[];
  /** Extra environment variables, merged over the daemon's own. */
  env?: Readonly<Record<string, string>>;
  /** Where the service's pid is kept (absolute). */
  pidFile: string;
  /** stdout and stderr are appended here (absolute). */
  logFile: string;
  /** A string the running service's command line contains. */
  marker: string;
}

export interface ServiceSupervisor {
  /** Starts the service unless it already runs. Resolves once the process has spawned. */
  start(spec: ServiceSpec): Promise<{ pid: number; alreadyRunning: boolean }>;
  /** The pid of the running service, or undefined. */
  running(spec: Pick<ServiceSpec, 'pidFile' | 'marker'>): Promise<number | undefined>;
  /** Stops the service (SIGTERM, SIGKILL after `graceMs`) and resolves once it is gone. No-op when not running. */
  stop(spec: Pick<ServiceSpec, 'pidFile' | 'marker'>, options?: { graceMs?: number }): Promise<void>;
}

/** Time a stopping service gets between SIGTERM and SIGKILL. */
export const DEFAULT_SERVICE_GRACE_MS = 10_000;
