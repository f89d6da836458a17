/**
 * ProcessRunner seam: how drivers run external commands (etcdctl, hook scripts, ...).
 *
 * Every run has a timeout and an output cap so a hung or chatty program cannot stall or
 * exhaust the daemon. The real runner ({@link SpawnProcessRunner}) spawns without a shell;
 * tests use {@link ScriptedProcessRunner}, which records calls and answers from a script.
 */
export interface ProcessRunner {
  run(request: ProcessRequest, options?: { signal?: AbortSignal }): Promise<ProcessResult>;
}

export interface ProcessRequest {
  /** Executable path or name looked up on PATH. Never interpreted by a shell. */
  command: string;
  args?: readonly string[];
  /** Extra environment variables, merged over the daemon's own environment. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Uint8Array;
  /** Kill the child (SIGTERM, then SIGKILL after a grace period) after this long. @default 30000 */
  timeoutMs?: number;
  /** Keep at most this many bytes of stdout and of stderr each. @default 1 MiB */
  maxOutputBytes?: number;
}

export interface ProcessResult {
  /** Exit code, or null when the child was ended by a signal. */
  exitCode: number | null;
  /** Signal that ended the child, if any. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when the runner killed the child because `timeoutMs` passed. */
  timedOut: boolean;
  /** True when stdout or stderr exceeded `maxOutputBytes` and was cut. */
  truncated: boolean;
  /** Wall time measured with the injected Clock. */
  durationMs: number;
}

export const DEFAULT_PROCESS_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
/** Time between SIGTERM and SIGKILL for a child that overran its timeout. */
export const KILL_GRACE_MS = 2_000;

/** Raised when the command cannot be started at all (not found, not executable). */
export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
  constructor(readonly command: string, cause: unknown) {
    super(`cannot start ${command}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
