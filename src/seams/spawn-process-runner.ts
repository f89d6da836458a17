import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Clock, Timer } from './clock.js';
import {
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_PROCESS_TIMEOUT_MS,
  KILL_GRACE_MS,
  ProcessStartError,
  type ProcessRequest,
  type ProcessResult,
  type ProcessRunner,
} from './process-runner.js';

export interface SpawnProcessRunnerComponents {
  /** Schedules the timeout and the SIGKILL grace period, and measures `durationMs`. */
  clock: Clock;
}

/**
 * Runs real programs with `node:child_process.spawn`, never through a shell.
 *
 * - The child runs in its own process group, and kills go to the whole group, so a timeout
 *   also ends what a script started (`sh -c 'sleep 30'`). The flip side: children are not
 *   killed by a terminal's Ctrl-C aimed at the daemon; the daemon must abort them itself.
 * - Timeout (`timeoutMs`, via the injected clock): SIGTERM, then SIGKILL after
 *   {@link KILL_GRACE_MS}; the result has `timedOut: true`.
 * - Output: the first `maxOutputBytes` of stdout and of stderr are kept, the rest is read and
 *   discarded (`truncated: true`); the child is not killed for being chatty.
 * - `input` is written to stdin, which is then closed (closed at once when there is none).
 * - Abort: the signal kills the child like a timeout does, and `run` rejects with the signal's
 *   reason once the child has exited (so no child outlives the rejection).
 * - A command that cannot be started (ENOENT, EACCES, missing cwd) rejects with
 *   {@link ProcessStartError}.
 */
export class SpawnProcessRunner implements ProcessRunner {
  readonly #clock: Clock;

  constructor(components: SpawnProcessRunnerComponents) {
    this.#clock = components.clock;
  }

  run(request: ProcessRequest, options: { signal?: AbortSignal } = {}): Promise<ProcessResult> {
    const { signal } = options;
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    const clock = this.#clock;
    const started = clock.now();
    const maxOutputBytes = request.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;

    return new Promise<ProcessResult>((resolve, reject) => {
      const child = spawn(request.command, request.args ?? [], {
        cwd: request.cwd,
        env: { ...process.env, ...request.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        detached: true,
      });
      let spawned = false;
      let settled = false;
      let timedOut = false;
      let aborted = false;
      let killTimer: Timer | undefined;
      const stdout = new CappedBuffer(maxOutputBytes);
      const stderr = new CappedBuffer(maxOutputBytes);

      const signalGroup = (sig: NodeJS.Signals): void => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, sig);
        } catch {
          // The group is already gone.
        }
      };
      /** SIGTERM now, SIGKILL after the grace period; repeated calls do nothing more. */
      const terminate = (): void => {
        if (killTimer !== undefined) return;
        signalGroup('SIGTERM');
        killTimer = clock.setTimer(KILL_GRACE_MS, () => {
          signalGroup('SIGKILL');
          // Something outside the group may still hold the pipes; stop waiting for them.
          child.stdout.destroy();
          child.stderr.destroy();
        });
      };
      const onAbort = (): void => {
        aborted = true;
        terminate();
      };
      const finish = (): void => {
        settled = true;
        termTimer.cancel();
        killTimer?.cancel();
        signal?.removeEventListener('abort', onAbort);
      };

      const termTimer = clock.setTimer(request.timeoutMs ?? DEFAULT_PROCESS_TIMEOUT_MS, () => {
        timedOut = true;
        terminate();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      child.once('spawn', () => {
        spawned = true;
      });
      child.on('error', (err) => {
        if (spawned || settled) return; // e.g. a failed kill: 'close' still follows
        finish();
        reject(new ProcessStartError(request.command, err));
      });
      // EPIPE when the child exits without reading its input is not the caller's problem.
      child.stdin.on('error', () => undefined);
      collect(child.stdout, stdout);
      collect(child.stderr, stderr);
      child.once('close', (exitCode, exitSignal) => {
        if (!spawned || settled) return;
        finish();
        if (aborted) {
          reject(signal?.reason);
          return;
        }
        resolve({
          exitCode,
          signal: exitSignal,
          stdout: stdout.text(),
          stderr: stderr.text(),
          timedOut,
          truncated: stdout.truncated || stderr.truncated,
          durationMs: clock.now() - started,
        });
      });

      if (request.input === undefined) child.stdin.end();
      else child.stdin.end(request.input);
    });
  }
}

function collect(stream: Readable, into: CappedBuffer): void {
  stream.on('data', (chunk: Buffer) => into.add(chunk));
  stream.on('error', () => undefined); // destroyed after SIGKILL; the exit is what matters
}

/** Keeps the first `limit` bytes of a stream and remembers whether more arrived. */
class CappedBuffer {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  truncated = false;

  constructor(limit: number) {
    this.#limit = Math.max(0, limit);
  }

  add(chunk: Buffer): void {
    const room = this.#limit - this.#size;
    if (chunk.length > room) {
      this.truncated = true;
      if (room <= 0) return;
      chunk = chunk.subarray(0, room);
    }
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  text(): string {
    return Buffer.concat(this.#chunks, this.#size).toString('utf8');
  }
}
