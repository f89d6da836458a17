import type { ProcessRequest, ProcessResult, ProcessRunner } from './process-runner.js';

/** Answers one request; fields left out take the defaults (exit 0, no output). */
export type ProcessHandler = (request: ProcessRequest) => Partial<ProcessResult> | Promise<Partial<ProcessResult>>;

/** Which requests a one-shot answer applies to: a command name, or a predicate. */
export type ProcessMatch = string | ((request: ProcessRequest) => boolean);

/**
 * A {@link ProcessRunner} for unit tests of drivers: runs nothing, records every request in
 * `calls` (in order), and answers from, first, the one-shot answers queued with
 * {@link ScriptedProcessRunner.failNext}/{@link ScriptedProcessRunner.answerNext} (oldest
 * matching first), then the handler given to the constructor, then the default
 * (exit code 0, empty stdout and stderr, not timed out, not truncated, 0 ms).
 *
 * An already-aborted signal rejects with its reason before anything is recorded; a handler
 * that throws makes `run` reject with that error.
 */
export class ScriptedProcessRunner implements ProcessRunner {
  /** Every request run so far, oldest first. */
  readonly calls: ProcessRequest[] = [];
  readonly #handler: ProcessHandler | undefined;
  readonly #queued: { match: ProcessMatch; result: Partial<ProcessResult> }[] = [];

  constructor(handler?: ProcessHandler) {
    this.#handler = handler;
  }

  async run(request: ProcessRequest, options: { signal?: AbortSignal } = {}): Promise<ProcessResult> {
    options.signal?.throwIfAborted();
    this.calls.push(copyRequest(request));
    const index = this.#queued.findIndex((q) => matches(q.match, request));
    let answer: Partial<ProcessResult>;
    if (index >= 0) {
      answer = (this.#queued.splice(index, 1)[0] as { result: Partial<ProcessResult> }).result;
    } else {
      answer = this.#handler === undefined ? {} : await this.#handler(request);
    }
    return { ...DEFAULT_RESULT, ...answer };
  }

  /** The next matching request answers `result` once, with exit code 1 unless `result` says otherwise. */
  failNext(match: ProcessMatch, result: Partial<ProcessResult> = {}): this {
    return this.answerNext(match, { exitCode: 1, ...result });
  }

  /** The next matching request answers `result` once (defaults fill the rest). */
  answerNext(match: ProcessMatch, result: Partial<ProcessResult>): this {
    this.#queued.push({ match, result });
    return this;
  }

  /** Requests whose command is `command`, in order. */
  callsTo(command: string): ProcessRequest[] {
    return this.calls.filter((c) => c.command === command);
  }
}

const DEFAULT_RESULT: ProcessResult = {
  exitCode: 0,
  signal: null,
  stdout: '',
  stderr: '',
  timedOut: false,
  truncated: false,
  durationMs: 0,
};

function matches(match: ProcessMatch, request: ProcessRequest): boolean {
  return typeof match === 'string' ? request.command === match : match(request);
}

/** A copy a driver cannot change after the fact by mutating what it passed. */
function copyRequest(request: ProcessRequest): ProcessRequest {
  const copy: ProcessRequest = { ...request };
  if (request.args !== undefined) copy.args = request.args.slice();
  if (request.env !== undefined) copy.env = { ...request.env };
  if (request.input instanceof Uint8Array) copy.input = new Uint8Array(request.input);
  return copy;
}
