/**
 * The client side of the local control API (docs/API.md): typed methods mirroring
 * {@link NodeControl}, over HTTP to 127.0.0.1 or a unix socket. The CLI's daemon commands are
 * thin wrappers around it.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import type { ApplyPolicyResult, MemberStatus, NodeStatus } from './node-control.js';
import type { Clock } from '../seams/clock.js';
import { errorCode, errorMessage } from '../util/error-code.js';
import { describeEndpoint } from './api-files.js';
import { ApiResponseError, ApiUnauthorizedError, DaemonUnreachableError } from './errors.js';
import type { DaemonLocation } from './locate-daemon.js';
import { API_PATHS, asApiErrorBody, type PolicyBody } from './wire.js';

/** How long a request may take before the daemon counts as unreachable. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** How long `leave` may take (the node announces its leave before answering). */
export const DEFAULT_LEAVE_TIMEOUT_MS = 30_000;

/** User configuration of the client; every field optional. */
export interface ControlClientInit {
  /** @default DEFAULT_REQUEST_TIMEOUT_MS */
  timeoutMs?: number;
  /** @default DEFAULT_LEAVE_TIMEOUT_MS */
  leaveTimeoutMs?: number;
}

export interface ControlClientComponents {
  /** Times requests out (the CLI passes SystemClock). */
  clock: Clock;
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
}

interface RawResponse {
  status: number;
  body: unknown;
}

/**
 * A client of one daemon. Every method rejects with {@link DaemonUnreachableError} (connection
 * refused or reset, no socket, no answer in time), {@link ApiUnauthorizedError} (401) or
 * {@link ApiResponseError} (any other unexpected answer, e.g. 500 with the daemon's reason).
 * A rejected policy is not an error: `applyPolicy` resolves to `{ accepted: false, code, reason }`.
 */
export class ControlClient {
  readonly #location: DaemonLocation;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #leaveTimeoutMs: number;

  constructor(location: DaemonLocation, components: ControlClientComponents, init: ControlClientInit = {}) {
    this.#location = location;
    this.#clock = components.clock;
    this.#timeoutMs = init.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#leaveTimeoutMs = init.leaveTimeoutMs ?? DEFAULT_LEAVE_TIMEOUT_MS;
  }

  /** Where this client sends requests (`http://…` or `unix:…`). */
  get target(): string {
    return describeEndpoint(this.#location.endpoint);
  }

  async status(options: CallOptions = {}): Promise<NodeStatus> {
    const body = this.#expectOk(await this.#request('GET', API_PATHS.status, undefined, this.#timeoutMs, options));
    return expectObject<NodeStatus>(body, API_PATHS.status);
  }

  async members(options: CallOptions = {}): Promise<MemberStatus[]> {
    const body = this.#expectOk(await this.#request('GET', API_PATHS.members, undefined, this.#timeoutMs, options));
    if (!Array.isArray(body)) throw badBody(API_PATHS.members, 'an array');
    return body as MemberStatus[];
  }

  /** The active policy, or null when none is active. */
  async policy(options: CallOptions = {}): Promise<PolicyBody> {
    const body = this.#expectOk(await this.#request('GET', API_PATHS.policy, undefined, this.#timeoutMs, options));
    return body === null ? null : expectObject<NonNullable<PolicyBody>>(body, API_PATHS.policy);
  }

  /** Sends a signed envelope; resolves to the node's verdict (accepted, or code and reason). */
  async applyPolicy(envelope: unknown, options: CallOptions = {}): Promise<ApplyPolicyResult> {
    const res = await this.#request('POST', API_PATHS.policy, envelope, this.#timeoutMs, options);
    if (res.status === 422) {
      const error = asApiErrorBody(res.body);
      if (!error) throw badBody(API_PATHS.policy, '{code, reason}');
      return { accepted: false, code: error.code, reason: error.reason };
    }
    const body = this.#expectOk(res);
    if (typeof body !== 'object' || body === null || !('name' in body) || !('version' in body)) throw badBody(API_PATHS.policy, '{accepted, name, version}');
    const { name, version } = body;
    if (typeof name !== 'string' || typeof version !== 'number') throw badBody(API_PATHS.policy, '{accepted, name, version}');
    return { accepted: true, name, version };
  }

  /** Asks the node to leave the cluster; resolves once it has announced its leave. */
  async leave(options: CallOptions = {}): Promise<void> {
    this.#expectOk(await this.#request('POST', API_PATHS.leave, undefined, this.#leaveTimeoutMs, options));
  }

  /** The body of a 200, or the error the status stands for. */
  #expectOk(res: RawResponse): unknown {
    if (res.status === 200) return res.body;
    if (res.status === 401) {
      throw new ApiUnauthorizedError(
        this.#location.tokenFile,
        `the daemon at ${this.target} refused the API token from ${this.#location.tokenFile} (it writes a new one at every start; is that file from this daemon?)`,
      );
    }
    const error = asApiErrorBody(res.body);
    const detail = error ? `${error.code}: ${error.reason}` : 'no error body';
    throw new ApiResponseError(res.status, error, `the daemon at ${this.target} answered ${res.status} (${detail})`);
  }

  #request(method: 'GET' | 'POST', path: string, body: unknown, timeoutMs: number, options: CallOptions): Promise<RawResponse> {
    const { endpoint, token, endpointSource } = this.#location;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const controller = new AbortController();
    let timedOut = false;
    const timer = this.#clock.setTimer(timeoutMs, () => {
      timedOut = true;
      controller.abort();
    });
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    const where = `${this.target}${endpointSource === '--api' ? '' : ` (from ${endpointSource})`}`;
    const target: RequestOptions = 'url' in endpoint ? hostAndPort(endpoint.url) : { socketPath: endpoint.socket };
    const requestOptions: RequestOptions = {
      ...target,
      method,
      path,
      // One connection per call: a CLI must not linger on a kept-alive socket.
      agent: false,
      signal: controller.signal,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        connection: 'close',
        ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      },
    };

    return new Promise<RawResponse>((resolve, reject) => {
      const fail = (err: unknown): void => {
        if (err instanceof ApiResponseError) reject(err);
        else if (timedOut) reject(new DaemonUnreachableError(where, `cannot reach the PACE daemon at ${where}: no answer within ${timeoutMs} ms`, { cause: err }));
        else if (options.signal?.aborted) reject(options.signal.reason);
        else reject(unreachable(where, err));
      };
      const req = httpRequest(requestOptions, (res) => {
        readResponse(res).then(resolve, fail);
      });
      req.on('error', fail);
      req.end(payload);
    }).finally(() => {
      timer.cancel();
      options.signal?.removeEventListener('abort', onAbort);
    });
  }
}

/** Reads a whole response and parses its JSON body. */
async function readResponse(res: IncomingMessage): Promise<RawResponse> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode ?? 0;
  try {
    return { status, body: JSON.parse(text) as unknown };
  } catch {
    throw new ApiResponseError(status, undefined, `the daemon answered ${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
}

function hostAndPort(url: string): RequestOptions {
  const u = new URL(url);
  return { host: u.hostname, port: u.port === '' ? 80 : Number(u.port) };
}

function unreachable(where: string, err: unknown): DaemonUnreachableError {
  const code = errorCode(err);
  const why =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOENT'
        ? 'the socket does not exist'
        : code === 'ECONNRESET' || code === 'EPIPE'
          ? 'the connection was reset'
          : errorMessage(err);
  return new DaemonUnreachableError(where, `cannot reach the PACE daemon at ${where}: ${why} (is \`pace agent\` running?)`, { cause: err });
}

function expectObject<T>(body: unknown, path: string): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badBody(path, 'an object');
  return body as T;
}

function badBody(path: string, expected: string): ApiResponseError {
  return new ApiResponseError(200, undefined, `the daemon's answer to ${path} is not ${expected}`);
}
