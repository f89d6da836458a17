/**
 * The local control API (docs/API.md): HTTP on 127.0.0.1 (or a unix socket) serving a
 * {@link NodeControl} to the CLI. Requests carry `Authorization: Bearer <token>`; the token is
 * written to `<dataDir>/api.token` at every start and the address to `<dataDir>/api.json`.
 *
 * Routes: `GET /v1/status`, `GET /v1/members`, `GET /v1/policy`, `POST /v1/policy` (a signed
 * envelope; 200 accepted, 422 rejected), `POST /v1/leave`. Errors are JSON `{code, reason}`:
 * 401, 400, 404, 405, 413, and 500 for a handler that throws (logged; the server keeps serving).
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type ListenOptions } from 'node:net';
import type { NodeControl } from './node-control.js';
import type { Random } from '../seams/random.js';
import type { Storage } from '../seams/storage.js';
import { API_ENDPOINT_FILE, API_TOKEN_FILE, describeEndpoint, formatEndpointFile, type ApiEndpoint } from './api-files.js';
import type { ApiLogger } from './api-logger.js';
import { bearerMatches, newApiToken } from './api-token.js';
import { ApiListenError } from './errors.js';
import { HttpError } from './http-error.js';
import { readJsonBody } from './read-body.js';
import { errorCode, errorMessage as describeError } from '../util/error-code.js';
import { API_PATHS, type ApiErrorBody, type LeaveBody, type PolicyAcceptedBody } from './wire.js';

/** The only address the TCP listener binds: the API is for local clients. */
export const API_HOST = '127.0.0.1';
/** Largest request body accepted (a signed envelope is at most ~0.5 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Deadline for receiving a whole request, enforced by node:http itself. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Mode of the unix socket: only the daemon's user may connect. */
const SOCKET_MODE = 0o600;

/** Where to listen: a TCP port on {@link API_HOST} (0 picks a free one), or a unix socket path. */
export type ControlListen = { port: number } | { socket: string };

/** User configuration of the control API; every field optional. */
export interface ControlServerInit {
  /**
   * Where to listen.
   * @default { port: 0 }
   */
  listen?: ControlListen;
  /**
   * Largest request body, in bytes; larger bodies are answered 413.
   * @default DEFAULT_MAX_BODY_BYTES (1 MiB)
   */
  maxBodyBytes?: number;
}

/** What the server uses. */
export interface ControlServerComponents {
  /** The node being served. */
  control: NodeControl;
  /** The data directory (`api.token` and `api.json` are written here, atomically, mode 0600). */
  storage: Storage;
  /** Source of the token (the daemon passes SystemRandom). */
  random: Random;
  logger: ApiLogger;
}

interface Reply {
  status: number;
  body: unknown;
}

type Handler = (req: IncomingMessage) => Promise<Reply>;

/**
 * Serves a {@link NodeControl} over HTTP. `start()` and `stop()` are idempotent and
 * serialised (a `stop()` during `start()` runs after it).
 *
 * `stop()` removes `api.json`, stops accepting connections and closes idle ones; it does not
 * wait for requests already being handled (a leave request's handler may itself be what stops
 * the daemon): they finish, and their connections close after the response.
 *
 * Concurrency contract: requests are handled concurrently; the {@link NodeControl} methods
 * may be called while earlier calls are still pending.
 */
export class ControlServer {
  readonly #components: ControlServerComponents;
  readonly #listen: ControlListen;
  readonly #maxBodyBytes: number;
  readonly #routes: ReadonlyMap<string, Readonly<Partial<Record<string, Handler>>>>;
  /** Serialises start/stop. */
  #lifecycle: Promise<void> = Promise.resolve();
  #running = false;
  #server: Server | undefined;
  #token = '';
  #endpoint: ApiEndpoint | undefined;

  constructor(components: ControlServerComponents, init: ControlServerInit = {}) {
    this.#components = components;
    this.#listen = init.listen ?? { port: 0 };
    this.#maxBodyBytes = init.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#routes = this.#buildRoutes();
  }

  /** Where the server listens while started (what `api.json` says); undefined otherwise. */
  get endpoint(): ApiEndpoint | undefined {
    return this.#running ? this.#endpoint : undefined;
  }

  /** Writes a new token, listens, then writes `api.json`. A no-op when already started. */
  start(): Promise<void> {
    return this.#serialise(async () => {
      if (this.#running) return;
      await this.#start();
      this.#running = true;
    });
  }

  /** Removes `api.json` and stops listening. A no-op when not started. */
  stop(): Promise<void> {
    return this.#serialise(async () => {
      if (!this.#running) return;
      this.#running = false;
      await this.#stop();
    });
  }

  #serialise(op: () => Promise<void>): Promise<void> {
    const next = this.#lifecycle.then(op);
    this.#lifecycle = next.catch(() => undefined);
    return next;
  }

  async #start(): Promise<void> {
    const { storage, random, logger } = this.#components;
    this.#token = newApiToken(random);
    await storage.write(API_TOKEN_FILE, new TextEncoder().encode(`${this.#token}\n`));
    const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        logger.error({ err: describeError(err) }, 'control API could not answer a request');
        res.destroy();
      });
    });
    try {
      this.#endpoint = await listen(server, this.#listen);
      await storage.write(API_ENDPOINT_FILE, new TextEncoder().encode(formatEndpointFile(this.#endpoint)));
    } catch (err) {
      server.close();
      throw err;
    }
    server.on('error', (err) => logger.error({ err: describeError(err) }, 'control API server error'));
    this.#server = server;
    logger.info({ endpoint: describeEndpoint(this.#endpoint) }, 'control API listening');
  }

  async #stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await this.#components.storage.remove(API_ENDPOINT_FILE);
    if (server) {
      server.close();
      server.closeIdleConnections();
    }
    this.#components.logger.info({}, 'control API stopped');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let reply: Reply;
    let headers: Readonly<Record<string, string>> = {};
    try {
      if (!bearerMatches(req.headers.authorization, this.#token)) {
        throw new HttpError(401, 'unauthorized', `missing or wrong bearer token (the daemon writes it to its data directory as ${API_TOKEN_FILE})`, {
          'www-authenticate': 'Bearer',
        });
      }
      const route = this.#routes.get(path);
      if (!route) throw new HttpError(404, 'not-found', `no route ${path}`);
      const handler = route[method];
      if (!handler) {
        const allow = Object.keys(route).join(', ');
        throw new HttpError(405, 'method-not-allowed', `${method} is not allowed on ${path} (allowed: ${allow})`, { allow });
      }
      reply = await handler(req);
    } catch (err) {
      if (err instanceof HttpError) {
        reply = { status: err.status, body: { code: err.code, reason: err.message } satisfies ApiErrorBody };
        headers = err.headers;
      } else {
        const reason = describeError(err);
        this.#components.logger.error({ err: reason, method, path, stack: err instanceof Error ? err.stack : undefined }, 'control API handler failed');
        reply = { status: 500, body: { code: 'internal', reason } satisfies ApiErrorBody };
      }
    }
    this.#send(res, reply, headers);
  }

  #send(res: ServerResponse, reply: Reply, headers: Readonly<Record<string, string>>): void {
    if (res.headersSent || res.destroyed) return;
    const text = `${JSON.stringify(reply.body)}\n`;
    res.writeHead(reply.status, {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      ...(this.#running ? {} : { connection: 'close' }),
    });
    res.end(text);
  }

  #buildRoutes(): Map<string, Partial<Record<string, Handler>>> {
    const control = (): NodeControl => this.#components.control;
    return new Map<string, Partial<Record<string, Handler>>>([
      [API_PATHS.status, { GET: async () => ({ status: 200, body: await control().status() }) }],
      [API_PATHS.members, { GET: () => Promise.resolve({ status: 200, body: control().members() }) }],
      [
        API_PATHS.policy,
        {
          GET: () => Promise.resolve({ status: 200, body: control().policy() }),
          POST: async (req) => {
            const envelope = await readJsonBody(req, this.#maxBodyBytes);
            const result = await control().applyPolicy(envelope);
            if (result.accepted) {
              return { status: 200, body: { accepted: true, name: result.name, version: result.version } satisfies PolicyAcceptedBody };
            }
            return { status: 422, body: { code: result.code, reason: result.reason } satisfies ApiErrorBody };
          },
        },
      ],
      [
        API_PATHS.leave,
        {
          POST: async () => {
            await control().leave();
            return { status: 200, body: { left: true } satisfies LeaveBody };
          },
        },
      ],
    ]);
  }
}

/** Listens and returns the endpoint clients should use. */
async function listen(server: Server, where: ControlListen): Promise<ApiEndpoint> {
  if ('port' in where) {
    try {
      await listenOn(server, { host: API_HOST, port: where.port });
    } catch (err) {
      throw new ApiListenError(`${API_HOST}:${where.port}`, `control API cannot listen on ${API_HOST}:${where.port}: ${describeError(err)}`, { cause: err });
    }
    const port = (server.address() as AddressInfo).port;
    return { url: `http://${API_HOST}:${port}` };
  }
  const path = where.socket;
  try {
    await listenOn(server, { path });
  } catch (err) {
    if (errorCode(err) !== 'EADDRINUSE' || !(await isSocketFile(path)) || (await socketAnswers(path))) {
      throw new ApiListenError(path, `control API cannot listen on unix socket ${path}: ${describeError(err)}`, { cause: err });
    }
    // A socket file left by a daemon that died: nobody answers on it, so replace it.
    await unlink(path);
    await listenOn(server, { path });
  }
  await chmod(path, SOCKET_MODE);
  return { socket: path };
}

function listenOn(server: Server, options: ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options);
  });
}

/** Whether `path` is a unix socket (never replace a file that is something else). */
async function isSocketFile(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSocket();
  } catch {
    return false;
  }
}

/** Whether some process accepts connections on the unix socket at `path`. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
