/**
 * Errors of the control API, one class per failure, each with a stable `name` so callers
 * (the CLI maps them to exit codes) branch on `err.name` or `instanceof`.
 */
import type { ApiErrorBody } from './wire.js';

/**
 * The daemon could not be reached: no `api.json` in the data directory, a connection refused
 * or reset, or no answer in time. `where` names what was tried (a file, a URL, a socket).
 */
export class DaemonUnreachableError extends Error {
  override readonly name = 'DaemonUnreachableError';
  constructor(readonly where: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The daemon answered 401: the token sent was missing or not the daemon's current token. */
export class ApiUnauthorizedError extends Error {
  override readonly name = 'ApiUnauthorizedError';
  constructor(readonly tokenFile: string, message: string) {
    super(message);
  }
}

/** The token file (or `api.json`) exists but cannot be read: usually permissions. */
export class ApiCredentialsError extends Error {
  override readonly name = 'ApiCredentialsError';
  constructor(readonly file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The daemon answered, but not as the API promises: an unexpected status (e.g. 500, with the
 * daemon's reason) or a body that is not the expected JSON.
 */
export class ApiResponseError extends Error {
  override readonly name = 'ApiResponseError';
  constructor(readonly status: number, readonly body: ApiErrorBody | undefined, message: string) {
    super(message);
  }
}

/** The server could not listen where it was told (port or socket in use, no permission). */
export class ApiListenError extends Error {
  override readonly name = 'ApiListenError';
  constructor(readonly where: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
