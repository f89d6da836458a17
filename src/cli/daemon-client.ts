/**
 * How the daemon commands (`status`, `members`, `policy show|apply`, `leave`) reach the local
 * daemon: the shared `--data-dir`, `--api`, `--token-file` and `--timeout` options, and the
 * mapping of API errors to exit codes (3 unreachable, 2 credentials, 1 a daemon failure).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseEndpointArg, type ApiEndpoint } from '../api/api-files.js';
import { ControlClient, DEFAULT_LEAVE_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from '../api/control-client.js';
import { ApiCredentialsError, ApiResponseError, ApiUnauthorizedError, DaemonUnreachableError } from '../api/errors.js';
import { locateDaemon } from '../api/locate-daemon.js';
import { DATA_DIR_ENV, defaultDataDir } from '../config/paths.js';
import { formatDuration, parseDuration } from '../policy/duration.js';
import { SystemClock } from '../seams/system-clock.js';
import { CliError, ExitCode } from './exit-codes.js';

/** The parsed shared options. */
export interface DaemonOptions {
  dataDir: string;
  api?: ApiEndpoint;
  tokenFile?: string;
  /** Milliseconds. */
  timeout: number;
}

/**
 * Adds the options every daemon command shares, and its exit codes to the help
 * (`moreExitCodes`, e.g. `5 policy rejected`, is appended).
 */
export function addDaemonOptions(command: Command, moreExitCodes = ''): Command {
  return command
    .addOption(new Option('--data-dir <dir>', `the agent's data directory, where it writes api.json and api.token (env ${DATA_DIR_ENV})`).default(defaultDataDir()))
    .addOption(new Option('--api <endpoint>', "the control API instead of the data directory's api.json: http://127.0.0.1:PORT or unix:/path/to/socket").argParser(parseApiArg))
    .addOption(new Option('--token-file <file>', 'the API token file (default: DATA-DIR/api.token)'))
    .addOption(
      new Option('--timeout <duration>', 'how long to wait for the daemon, e.g. 5s or 500ms').argParser(parseTimeoutArg).default(DEFAULT_REQUEST_TIMEOUT_MS, formatDuration(DEFAULT_REQUEST_TIMEOUT_MS)),
    )
    .addHelpText(
      'after',
      `\nExit codes: 0 ok, 1 the daemon failed to answer, 2 usage or unreadable/refused API token,\n3 daemon unreachable${moreExitCodes === '' ? '' : `, ${moreExitCodes}`}.`,
    );
}

/**
 * Finds the daemon, runs `fn` with a client, and turns API errors into {@link CliError}s with
 * the documented exit codes and a message that names where the CLI looked.
 */
export async function withDaemon<T>(options: DaemonOptions, fn: (client: ControlClient) => Promise<T>): Promise<T> {
  try {
    const location = await locateDaemon({ dataDir: options.dataDir, endpoint: options.api, tokenFile: options.tokenFile });
    const client = new ControlClient(location, { clock: new SystemClock() }, { timeoutMs: options.timeout, leaveTimeoutMs: Math.max(options.timeout, DEFAULT_LEAVE_TIMEOUT_MS) });
    return await fn(client);
  } catch (err) {
    throw toCliError(err);
  }
}

/** The exit code and message for an API error; other errors pass through unchanged. */
export function toCliError(err: unknown): unknown {
  if (err instanceof DaemonUnreachableError) return new CliError(ExitCode.unreachable, err.message);
  if (err instanceof ApiCredentialsError || err instanceof ApiUnauthorizedError) return new CliError(ExitCode.usage, err.message);
  if (err instanceof ApiResponseError) return new CliError(ExitCode.internal, err.message);
  return err;
}

function parseApiArg(value: string): ApiEndpoint {
  const endpoint = parseEndpointArg(value);
  if (!endpoint) throw new InvalidArgumentError('expected http://HOST:PORT or unix:/path/to/socket');
  return endpoint;
}

function parseTimeoutArg(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms === 0) throw new InvalidArgumentError(`expected a positive duration such as 5s or 500ms (default ${formatDuration(DEFAULT_REQUEST_TIMEOUT_MS)})`);
  return ms;
}
