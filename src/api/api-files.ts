/**
 * The files the control API server leaves in the data directory so local clients can find it
 * (docs/API.md#files-in-the-data-directory):
 *
 * - `api.token`: the bearer token, 64 lowercase hex digits and a newline, mode 0600.
 *   A new token is written at every start.
 * - `api.json`: where the server listens, `{ "url": "http://127.0.0.1:PORT" }` or
 *   `{ "socket": "/path/to/api.sock" }`. Written once the server listens; removed on stop.
 */

/** Storage name of the bearer token file. */
export const API_TOKEN_FILE = 'api.token';
/** Storage name of the endpoint file. */
export const API_ENDPOINT_FILE = 'api.json';

/** Where a control API server listens: a loopback HTTP URL or a unix socket path. */
export type ApiEndpoint = { url: string } | { socket: string };

/** The endpoint as it is written to `api.json` (one line of JSON and a newline). */
export function formatEndpointFile(endpoint: ApiEndpoint): string {
  return `${JSON.stringify(endpoint)}\n`;
}

/** Parses `api.json`; undefined when it is not one of the two {@link ApiEndpoint} shapes. */
export function parseEndpointFile(text: string): ApiEndpoint | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if ('url' in value && typeof value.url === 'string' && value.url !== '') return { url: value.url };
  if ('socket' in value && typeof value.socket === 'string' && value.socket !== '') return { socket: value.socket };
  return undefined;
}

/**
 * Parses an endpoint given on the command line: `http://HOST:PORT` or `unix:/path/to/socket`
 * (a bare absolute path is taken as a socket too). Undefined when it is neither.
 */
export function parseEndpointArg(arg: string): ApiEndpoint | undefined {
  if (arg.startsWith('unix:')) {
    const socket = arg.slice('unix:'.length);
    return socket === '' ? undefined : { socket };
  }
  if (arg.startsWith('/')) return { socket: arg };
  try {
    const url = new URL(arg);
    if (url.protocol !== 'http:') return undefined;
    return { url: url.origin };
  } catch {
    return undefined;
  }
}

/** How an endpoint reads in messages: the URL, or `unix:PATH`. */
export function describeEndpoint(endpoint: ApiEndpoint): string {
  return 'url' in endpoint ? endpoint.url : `unix:${endpoint.socket}`;
}
