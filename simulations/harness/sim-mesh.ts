/**
 * One simulated node's {@link Mesh}: the same contract as the libp2p mesh, carried by a
 * {@link SimNetwork} in virtual time. Build it with `SimNetwork.createMesh(id)`.
 */
import type { Clock, Timer } from '../../src/seams/clock.js';
import {
  MeshRequestError,
  type Mesh,
  type MeshEventName,
  type MeshEvents,
  type MeshListener,
  type PeerId,
  type RequestHandler,
} from '../../src/mesh/mesh.js';
import { MeshMessageTooLargeError, MeshNotStartedError, MeshProtocolInUseError } from '../../src/mesh/errors.js';
import { MeshEventHub } from '../../src/mesh/mesh-events.js';
import type { TraceDetails } from './trace.js';

/** Settings of one simulated mesh; the defaults are the libp2p mesh's LAN profile. */
export interface SimMeshInit {
  /** Largest broadcast payload `publish` accepts. @default 1 MiB */
  maxMessageBytes?: number;
  /** Largest request and response payload, enforced both ways. @default 16 MiB */
  maxRequestBytes?: number;
  /** Outbound request deadline when the caller gives none, and inbound handler deadline. @default 30_000 */
  requestTimeoutMs?: number;
  /**
   * The node's clock for request and handler deadlines. Pass the node's `NodeClock` so a crash
   * silences them. @default the network's fleet clock
   */
  clock?: Clock;
  /** Called when a listener throws. @default records `listener:error` in the trace */
  onListenerError?: (event: MeshEventName, error: unknown) => void;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** How a request ended at the responder, as carried back to the requester. */
export type RequestOutcome = { ok: true; data: Uint8Array } | { ok: false; reason: string };

/** A request as it arrives at the responder. */
export interface InboundRequest {
  readonly id: number;
  readonly from: PeerId;
  readonly protocol: string;
  readonly data: Uint8Array;
}

/** What a SimMesh asks of its network. Implemented by SimNetwork; not for other callers. */
export interface SimMeshPort {
  /** The fleet clock (used when the mesh is given no clock of its own). */
  readonly clock: Clock;
  started(mesh: SimMesh): void;
  stopped(mesh: SimMesh): void;
  subscriptionChanged(mesh: SimMesh, topic: string, subscribed: boolean): void;
  publish(mesh: SimMesh, topic: string, data: Uint8Array): void;
  /** Sends a request; returns its network-wide id. */
  sendRequest(mesh: SimMesh, to: PeerId, protocol: string, data: Uint8Array): number;
  sendResponse(mesh: SimMesh, to: PeerId, id: number, outcome: RequestOutcome): void;
  /** Whether `from` and `to` can reach each other now (both up, both directions open). */
  reachable(from: PeerId, to: PeerId): boolean;
  trace(mesh: SimMesh, kind: string, details: TraceDetails): void;
  /** Hands the network the mesh's inbound side. Called once, from the constructor. */
  attach(inbox: SimMeshInbox): void;
}

/** The mesh's inbound side, which only the network calls. */
export interface SimMeshInbox {
  /**
   * A broadcast arrived (the network checked epoch, partition and subscription). `data` is the
   * one copy every receiver of the broadcast gets: read it, never modify it.
   */
  message(topic: string, from: PeerId, data: Uint8Array): void;
  request(request: InboundRequest): void;
  response(id: number, outcome: RequestOutcome): void;
  /** The network's verdict on `peer`: reachable at epoch `epoch`, or unreachable (undefined). */
  observe(peer: PeerId, epoch: number | undefined): void;
  /** The process died: drop everything silently; nothing pending ever settles. */
  crash(): void;
}

/** The lifecycle of one SimMesh object. A crashed mesh is dead for good; restart makes a new one. */
export type SimMeshState = 'new' | 'started' | 'stopped' | 'crashed';

interface PendingRequest {
  readonly peer: PeerId;
  readonly protocol: string;
  readonly resolve: (data: Uint8Array) => void;
  readonly reject: (error: Error) => void;
  readonly cleanup: () => void;
}

/**
 * A simulated {@link Mesh}. Behaviour, as the libp2p mesh (see docs/SIMULATION.md for what is
 * simplified):
 * - `start` joins the network; every reachable node sees `peer:up` after the connect delay.
 *   `stop` emits `peer:down` for every connected peer (sorted), rejects pending requests with
 *   "mesh stopped", aborts running handlers, and leaves; `start` again is a new epoch.
 * - `publish` reaches every other subscribed node over its own link; never the publisher.
 * - `request` fails at once when the mesh is not started, the payload is above
 *   `maxRequestBytes`, the signal is aborted, or the peer is neither connected nor reachable;
 *   otherwise it resolves with the response, or rejects with {@link MeshRequestError} on a
 *   handler error, an unknown protocol, a timeout, the caller's abort, or `stop`.
 *
 * Concurrency contract: as {@link Mesh}; every callback runs inside a scheduler event.
 */
/**
 * One handler run: its deadline timer, and the abort signal handed to the handler, created only
 * when the handler reads it (most never do; an AbortController per request was a tenth of a
 * large fleet's steady-state time).
 */
class InboundRun {
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;

  constructor(readonly deadline: Timer) {}

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

export class SimMesh implements Mesh {
  readonly self: PeerId;
  readonly #port: SimMeshPort;
  readonly #clock: Clock;
  readonly #maxMessageBytes: number;
  readonly #maxRequestBytes: number;
  readonly #requestTimeoutMs: number;
  readonly #events: MeshEventHub;
  readonly #topics = new Set<string>();
  readonly #handlers = new Map<string, RequestHandler>();
  /** Connected peers and the epoch at which each was seen. */
  readonly #view = new Map<PeerId, number>();
  #sortedPeers: PeerId[] | undefined;
  readonly #pending = new Map<number, PendingRequest>();
  /** Handlers running now: their abort controllers (made when a handler reads its signal) and deadline timers. */
  readonly #inbound = new Set<InboundRun>();
  #state: SimMeshState = 'new';

  /** Use `SimNetwork.createMesh`; the port is the network's. */
  constructor(self: PeerId, port: SimMeshPort, init: SimMeshInit = {}) {
    this.self = self;
    this.#port = port;
    this.#clock = init.clock ?? port.clock;
    this.#maxMessageBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#maxRequestBytes = init.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.#requestTimeoutMs = init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const onListenerError = init.onListenerError ?? ((event: MeshEventName, error: unknown) => port.trace(this, 'listener:error', { error: errorText(error), event }));
    this.#events = new MeshEventHub(onListenerError);
    port.attach({
      message: (topic, from, data) => this.#emit('message', { topic, from, data }),
      request: (request) => this.#serve(request),
      response: (id, outcome) => this.#settle(id, outcome),
      observe: (peer, epoch) => this.#observe(peer, epoch),
      crash: () => this.#crash(),
    });
  }

  get state(): SimMeshState {
    return this.#state;
  }

  async start(): Promise<void> {
    if (this.#state === 'started') return;
    if (this.#state === 'crashed') throw new Error(`mesh ${this.self} crashed; create a new one to restart the node`);
    this.#state = 'started';
    this.#port.started(this);
  }

  async stop(): Promise<void> {
    if (this.#state !== 'started') return;
    this.#state = 'stopped';
    this.#abortAll(new Error('mesh stopped'));
    for (const peer of this.peers()) {
      this.#view.delete(peer);
      this.#sortedPeers = undefined;
      this.#port.trace(this, 'peer:down', { peer });
      this.#emit('peer:down', { peer });
    }
    this.#port.stopped(this);
  }

  /** The simulated network links every node to every other on its own: nothing to dial. */
  addPeers(_addresses: readonly string[]): void {}

  peers(): PeerId[] {
    this.#sortedPeers ??= [...this.#view.keys()].sort();
    return this.#sortedPeers.slice();
  }

  /** Whether this mesh receives `topic` (used by the network on arrival). */
  isSubscribed(topic: string): boolean {
    return this.#topics.has(topic);
  }

  /** Topics subscribed to, sorted. */
  topics(): string[] {
    return [...this.#topics].sort();
  }

  subscribe(topic: string): void {
    if (this.#topics.has(topic)) return;
    this.#topics.add(topic);
    this.#port.subscriptionChanged(this, topic, true);
  }

  unsubscribe(topic: string): void {
    if (!this.#topics.delete(topic)) return;
    this.#port.subscriptionChanged(this, topic, false);
  }

  async publish(topic: string, data: Uint8Array): Promise<void> {
    if (this.#state !== 'started') throw new MeshNotStartedError(`publish on ${topic}`);
    if (data.byteLength > this.#maxMessageBytes) {
      throw new MeshMessageTooLargeError(topic, data.byteLength, this.#maxMessageBytes);
    }
    this.#port.publish(this, topic, new Uint8Array(data));
  }

  handle(protocol: string, handler: RequestHandler): void {
    if (this.#handlers.has(protocol)) throw new MeshProtocolInUseError(protocol);
    this.#handlers.set(protocol, handler);
  }

  unhandle(protocol: string): void {
    this.#handlers.delete(protocol);
  }

  async request(peer: PeerId, protocol: string, data: Uint8Array, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Uint8Array> {
    if (this.#state !== 'started') throw new MeshRequestError(peer, protocol, 'mesh is not started');
    if (data.byteLength > this.#maxRequestBytes) {
      throw new MeshRequestError(peer, protocol, `request of ${data.byteLength} bytes exceeds the ${this.#maxRequestBytes}-byte limit`);
    }
    const signal = options.signal;
    if (signal?.aborted === true) throw new MeshRequestError(peer, protocol, 'aborted by caller', { cause: signal.reason });
    if (peer === this.self) throw new MeshRequestError(peer, protocol, 'cannot send a request to self');
    if (!this.#view.has(peer) && !this.#port.reachable(this.self, peer)) throw new MeshRequestError(peer, protocol, 'peer unreachable');
    const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs;
    return new Promise<Uint8Array>((resolve, reject) => {
      const id = this.#port.sendRequest(this, peer, protocol, new Uint8Array(data));
      const fail = (reason: string, cause?: unknown): void => {
        if (!this.#pending.has(id)) return;
        this.#settle(id, { ok: false, reason }, cause);
      };
      const timer = this.#clock.setTimer(timeoutMs, () => fail(`timed out after ${timeoutMs} ms`));
      const onAbort = (): void => fail('aborted by caller', signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        peer,
        protocol,
        resolve,
        reject,
        cleanup: () => {
          timer.cancel();
          signal?.removeEventListener('abort', onAbort);
        },
      });
    });
  }

  on<E extends MeshEventName>(event: E, listener: MeshListener<E>): () => void {
    return this.#events.on(event, listener);
  }

  #emit<E extends MeshEventName>(event: E, payload: MeshEvents[E]): void {
    this.#events.emit(event, payload);
  }

  #observe(peer: PeerId, epoch: number | undefined): void {
    if (this.#state !== 'started') return;
    const seen = this.#view.get(peer);
    if (seen === epoch) return;
    if (seen !== undefined) {
      this.#view.delete(peer);
      this.#sortedPeers = undefined;
      this.#port.trace(this, 'peer:down', { peer });
      this.#emit('peer:down', { peer });
    }
    if (epoch !== undefined) {
      this.#view.set(peer, epoch);
      this.#sortedPeers = undefined;
      this.#port.trace(this, 'peer:up', { epoch, peer });
      this.#emit('peer:up', { peer });
    }
  }

  /** Runs the handler for an inbound request and sends exactly one outcome back. */
  #serve(request: InboundRequest): void {
    if (this.#state !== 'started') return;
    let replied = false;
    const reply = (outcome: RequestOutcome): void => {
      if (replied || this.#state !== 'started') return;
      replied = true;
      this.#port.sendResponse(this, request.from, request.id, outcome);
    };
    const handler = this.#handlers.get(request.protocol);
    if (handler === undefined) {
      reply({ ok: false, reason: `rejected by peer: protocol ${request.protocol} not supported` });
      return;
    }
    if (request.data.byteLength > this.#maxRequestBytes) {
      reply({ ok: false, reason: `rejected by peer: request of ${request.data.byteLength} bytes exceeds the ${this.#maxRequestBytes}-byte limit` });
      return;
    }
    const timeoutMs = this.#requestTimeoutMs;
    const deadline = this.#clock.setTimer(timeoutMs, () => {
      running.abort(new Error(`handler timed out after ${timeoutMs} ms`));
      reply({ ok: false, reason: `rejected by peer: handler timed out after ${timeoutMs} ms` });
    });
    const running = new InboundRun(deadline);
    this.#inbound.add(running);
    let result: Promise<Uint8Array>;
    try {
      result = handler(request.data, request.from, running);
    } catch (error) {
      result = Promise.reject(error);
    }
    result
      .then(
        (body) => {
          if (body.byteLength > this.#maxRequestBytes) {
            reply({ ok: false, reason: `rejected by peer: response of ${body.byteLength} bytes exceeds the ${this.#maxRequestBytes}-byte limit` });
          } else {
            reply({ ok: true, data: new Uint8Array(body) });
          }
        },
        (error: unknown) => reply({ ok: false, reason: `remote handler failed: ${errorText(error)}` }),
      )
      .finally(() => {
        deadline.cancel();
        this.#inbound.delete(running);
      })
      .catch(() => undefined);
  }

  #settle(id: number, outcome: RequestOutcome, cause?: unknown): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return; // late, duplicate, or already timed out
    this.#pending.delete(id);
    pending.cleanup();
    this.#port.trace(this, 'req:done', { id, ok: outcome.ok, peer: pending.peer, ...(outcome.ok ? {} : { reason: outcome.reason }) });
    if (outcome.ok) pending.resolve(outcome.data);
    else pending.reject(new MeshRequestError(pending.peer, pending.protocol, outcome.reason, cause === undefined ? undefined : { cause }));
  }

  /** Rejects every pending request and aborts every running handler (graceful stop). */
  #abortAll(reason: Error): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, { ok: false, reason: reason.message });
    for (const running of this.#inbound) {
      running.deadline.cancel();
      running.abort(reason);
    }
    this.#inbound.clear();
  }

  #crash(): void {
    if (this.#state === 'crashed') return;
    this.#state = 'crashed';
    for (const pending of this.#pending.values()) pending.cleanup();
    this.#pending.clear();
    for (const running of this.#inbound) running.deadline.cancel();
    this.#inbound.clear();
    this.#view.clear();
    this.#sortedPeers = undefined;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
