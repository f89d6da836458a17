/**
 * An error a request handler throws to answer with a specific status and an
 * {@link ApiErrorBody}. Anything else a handler throws becomes a 500 (and is logged).
 */
import type { ApiErrorCode } from './wire.js';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    /** Extra response headers (e.g. `Allow` for 405). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}
