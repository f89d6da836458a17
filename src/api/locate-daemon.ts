/**
 * Finding the local daemon's control API: from a data directory (`api.json` and `api.token`
 * written by the server), or from an explicit endpoint and token file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { API_ENDPOINT_FILE, API_TOKEN_FILE, parseEndpointFile, type ApiEndpoint } from './api-files.js';
import { errorCode, errorMessage } from '../util/error-code.js';
import { ApiCredentialsError, DaemonUnreachableError } from './errors.js';

/** Where a daemon's API is and how to authenticate to it. */
export interface DaemonLocation {
  endpoint: ApiEndpoint;
  token: string;
  /** Where the endpoint came from, for messages: the `api.json` path, or `--api`. */
  endpointSource: string;
  /** The token file read (named in 401 messages). */
  tokenFile: string;
}

export interface LocateDaemonOptions {
  /** The daemon's data directory. */
  dataDir: string;
  /** An explicit endpoint; when set, `api.json` is not read. */
  endpoint?: ApiEndpoint;
  /** The token file. @default `<dataDir>/api.token` */
  tokenFile?: string;
}

/**
 * Reads where the daemon listens and its token.
 *
 * Rejects with {@link DaemonUnreachableError} when `api.json` is missing (no daemon runs on
 * that data directory, or it stopped) or unreadable as an endpoint, and with
 * {@link ApiCredentialsError} when a file exists but cannot be read (permissions) or the token
 * file is missing or empty.
 */
export async function locateDaemon(options: LocateDaemonOptions): Promise<DaemonLocation> {
  const tokenFile = options.tokenFile ?? join(options.dataDir, API_TOKEN_FILE);
  let endpoint: ApiEndpoint;
  let endpointSource: string;
  if (options.endpoint) {
    endpoint = options.endpoint;
    endpointSource = '--api';
  } else {
    endpointSource = join(options.dataDir, API_ENDPOINT_FILE);
    endpoint = await readEndpointFile(endpointSource, options.dataDir);
  }
  const token = await readTokenFile(tokenFile);
  return { endpoint, token, endpointSource, tokenFile };
}

async function readEndpointFile(file: string, dataDir: string): Promise<ApiEndpoint> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') {
      throw new DaemonUnreachableError(
        file,
        `no PACE daemon found: ${file} does not exist (is \`pace agent\` running with data directory ${dataDir}? set it with --data-dir or PACE_DATA_DIR)`,
        { cause: err },
      );
    }
    throw new ApiCredentialsError(file, `cannot read ${file}: ${fileErrorMessage(err)} (run as the agent's user, or pass --api and --token-file)`, { cause: err });
  }
  const endpoint = parseEndpointFile(text);
  if (!endpoint) {
    throw new DaemonUnreachableError(file, `no PACE daemon found: ${file} is not a control API endpoint file (expected {"url": ...} or {"socket": ...})`);
  }
  return endpoint;
}

async function readTokenFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const hint = errorCode(err) === 'ENOENT' ? '' : " (run as the agent's user)";
    throw new ApiCredentialsError(file, `cannot read the API token ${file}: ${fileErrorMessage(err)}${hint}`, { cause: err });
  }
  const token = text.trim();
  if (token === '') throw new ApiCredentialsError(file, `the API token file ${file} is empty`);
  return token;
}

/** A file error as a short phrase for messages. */
function fileErrorMessage(err: unknown): string {
  const code = errorCode(err);
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return errorMessage(err);
}
