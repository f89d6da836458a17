import { MeshRequestError, type Mesh, type MeshEventName, type MeshListener, type PeerId, type RequestHandler } from '../../../src/mesh/mesh.js';
import type { ManualClock } from '../../../src/seams/manual-clock.js';

export type MessageKind = 'request' | 'response';

/** Default request timeout when the caller gives none. */
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * A tiny deterministic in-process network for membership tests: every message takes
 * `latencyMs` of ManualClock time each way; crashed nodes and cut links swallow messages (the
 * requester times out, as with a silent peer). Only request/response is implemented.
 * To be replaced by the simulator's SimMesh.
 */
export class TestNetwork {
  readonly #meshes = new Map<PeerId, TestMesh>();
  readonly #crashed = new Set<PeerId>();
  readonly #cut = new Set<string>();
  /** Messages still to lose per directed link and kind (`from|to|kind`): see {@link loseNext}. */
  readonly #toLose = new Map<string, number>();

  constructor(
    readonly clock: ManualClock,
    readonly latencyMs = 5,
  ) {}

  /** The mesh endpoint for `id` (created on first use; kept across a node's restarts). */
  mesh(id: PeerId): TestMesh {
    let mesh = this.#meshes.get(id);
    if (mesh === undefined) {
      mesh = new TestMesh(id, this);
      this.#meshes.set(id, mesh);
    }
    return mesh;
  }

  /** The node stops receiving and sending. */
  crash(id: PeerId): void {
    this.#crashed.add(id);
  }

  restore(id: PeerId): void {
    this.#crashed.delete(id);
  }

  /** Drops every message between `a` and `b`, both ways. */
  cut(a: PeerId, b: PeerId): void {
    this.#cut.add(`${a}|${b}`);
    this.#cut.add(`${b}|${a}`);
  }

  /** Cuts every link between the two groups. */
  partition(left: readonly PeerId[], right: readonly PeerId[]): void {
    for (const a of left) for (const b of right) this.cut(a, b);
  }

  /** Restores every cut link. */
  healLinks(): void {
    this.#cut.clear();
  }

  /** The next `count` messages from `from` to `to` are lost: requests, responses, or either (`any`). */
  loseNext(from: PeerId, to: PeerId, count = 1, kind: MessageKind | 'any' = 'any'): void {
    const link = `${from}|${to}|${kind}`;
    this.#toLose.set(link, (this.#toLose.get(link) ?? 0) + count);
  }

  /** Whether a message from `from` to `to` arrives now (asked once per message: a loss from {@link loseNext} is used up). */
  canDeliver(from: PeerId, to: PeerId, kind: MessageKind): boolean {
    if (this.#crashed.has(from) || this.#crashed.has(to) || this.#cut.has(`${from}|${to}`)) return false;
    return !this.#useLoss(`${from}|${to}|${kind}`) && !this.#useLoss(`${from}|${to}|any`);
  }

  #useLoss(link: string): boolean {
    const toLose = this.#toLose.get(link) ?? 0;
    if (toLose === 0) return false;
    if (toLose === 1) this.#toLose.delete(link);
    else this.#toLose.set(link, toLose - 1);
    return true;
  }

  handlerOf(id: PeerId, protocol: string): RequestHandler | undefined {
    return this.#meshes.get(id)?.handlerFor(protocol);
  }
}

export class TestMesh implements Mesh {
  readonly #handlers = new Map<string, RequestHandler>();

  constructor(
    readonly self: PeerId,
    private readonly network: TestNetwork,
  ) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  /** Every test mesh reaches every other: nothing to dial. */
  addPeers(_addresses: readonly string[]): void {}

  peers(): PeerId[] {
    return [];
  }

  subscribe(): void {}

  unsubscribe(): void {}

  publish(): Promise<void> {
    return Promise.resolve();
  }

  handle(protocol: string, handler: RequestHandler): void {
    this.#handlers.set(protocol, handler);
  }

  unhandle(protocol: string): void {
    this.#handlers.delete(protocol);
  }

  handlerFor(protocol: string): RequestHandler | undefined {
    return this.#handlers.get(protocol);
  }

  on<E extends MeshEventName>(_event: E, _listener: MeshListener<E>): () => void {
    return () => {};
  }

  request(peer: PeerId, protocol: string, data: Uint8Array, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Uint8Array> {
    const { clock, latencyMs } = this.network;
    const from = this.self;
    return new Promise<Uint8Array>((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        timeout.cancel();
        options.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const fail = (reason: string): void => finish(() => reject(new MeshRequestError(peer, protocol, reason)));
      const onAbort = (): void => fail('aborted');
      const timeout = clock.setTimer(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, () => fail('timeout'));
      if (options.signal?.aborted === true) return fail('aborted');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const handlerSignal = new AbortController();
      clock.setTimer(latencyMs, () => {
        if (done || !this.network.canDeliver(from, peer, 'request')) return;
        const handler = this.network.handlerOf(peer, protocol);
        if (handler === undefined) {
          clock.setTimer(latencyMs, () => fail('protocol not supported'));
          return;
        }
        handler(data.slice(), from, { signal: handlerSignal.signal }).then(
          (response) => {
            clock.setTimer(latencyMs, () => {
              if (this.network.canDeliver(peer, from, 'response')) finish(() => resolve(response.slice()));
            });
          },
          (err: unknown) => {
            clock.setTimer(latencyMs, () => {
              if (this.network.canDeliver(peer, from, 'response')) fail(`refused: ${err instanceof Error ? err.name : 'error'}`);
            });
          },
        );
      });
    });
  }
}
