/**
 * An in-process Mesh hub for tests: every mesh created from one {@link MemoryHub} can reach the
 * others, with virtual latency on the hub's Clock (drive it with ManualClock.advance).
 *
 * Determinism: deliveries are clock timers, scheduled in sorted peer order, so a run with the
 * same clock steps delivers in the same order. Faults are per link and symmetric:
 * - `setGossipDrop(a, b, true)`: broadcast messages between a and b are silently lost
 *   (requests still work) — the "gossip was dropped" case.
 * - `setPartitioned(a, b, true)`: the link is down: both sides see `peer:down`, requests fail.
 * - `loseRequests(from, to, n)`: the next n requests from `from` to `to` are lost on the way;
 *   each fails only at its timeout, as a request over a lossy link does.
 * - `loseResponses(from, to, n)`: the next n requests from `from` to `to` are served, but their
 *   responses are lost on the way back: the handler has run, the caller sees only its timeout.
 * Broadcasts reach every connected subscriber directly (no multi-hop relay), never the sender.
 * The simulator will model the network properly; this is only what the state tests need.
 */
import type { Clock } from '../../src/seams/clock.js';
import { MeshEventHub } from '../../src/mesh/mesh-events.js';
import { MeshRequestError, type Mesh, type MeshEventName, type MeshEvents, type MeshListener, type PeerId, type RequestHandler } from '../../src/mesh/mesh.js';

function linkKey(a: PeerId, b: PeerId): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export class MemoryHub {
  /** Started meshes by peer id. */
  private readonly meshes = new Map<PeerId, MemoryMesh>();
  private readonly gossipDropped = new Set<string>();
  private readonly partitioned = new Set<string>();
  /** Requests still to lose, by `from>to`. */
  private readonly toLose = new Map<string, number>();
  /** Responses still to lose, by `from>to` (the requester's direction). */
  private readonly responsesToLose = new Map<string, number>();

  constructor(readonly clock: Clock, readonly latencyMs = 1) {}

  createMesh(self: PeerId): MemoryMesh {
    return new MemoryMesh(this, self);
  }

  /** Drops (or restores) broadcast traffic in both directions between `a` and `b`. */
  setGossipDrop(a: PeerId, b: PeerId, drop: boolean): void {
    if (drop) this.gossipDropped.add(linkKey(a, b));
    else this.gossipDropped.delete(linkKey(a, b));
  }

  /** Loses the next `count` requests from `from` to `to` (one direction only). */
  loseRequests(from: PeerId, to: PeerId, count: number): void {
    this.toLose.set(`${from}>${to}`, count);
  }

  /** Loses the responses to the next `count` requests from `from` to `to`, after `to` has served them. */
  loseResponses(from: PeerId, to: PeerId, count: number): void {
    this.responsesToLose.set(`${from}>${to}`, count);
  }

  /** Cuts (or heals) the link between `a` and `b`; both sides see peer:down / peer:up. */
  setPartitioned(a: PeerId, b: PeerId, cut: boolean): void {
    const key = linkKey(a, b);
    const was = this.partitioned.has(key);
    if (cut === was) return;
    if (cut) this.partitioned.add(key);
    else this.partitioned.delete(key);
    const ma = this.meshes.get(a);
    const mb = this.meshes.get(b);
    if (ma === undefined || mb === undefined) return;
    const event = cut ? 'peer:down' : 'peer:up';
    this.later(() => ma.emit(event, { peer: b }));
    this.later(() => mb.emit(event, { peer: a }));
  }

  /** Isolates `peer` from every other peer (or heals all of its links). */
  isolate(peer: PeerId, cut: boolean): void {
    for (const other of [...this.meshes.keys()].sort()) if (other !== peer) this.setPartitioned(peer, other, cut);
  }

  linked(a: PeerId, b: PeerId): boolean {
    return a !== b && this.meshes.has(a) && this.meshes.has(b) && !this.partitioned.has(linkKey(a, b));
  }

  /** @internal */
  join(mesh: MemoryMesh): void {
    if (this.meshes.has(mesh.self)) throw new Error(`peer ${mesh.self} already on the hub`);
    this.meshes.set(mesh.self, mesh);
    for (const other of [...this.meshes.keys()].sort()) {
      if (!this.linked(mesh.self, other)) continue;
      const o = this.meshes.get(other) as MemoryMesh;
      this.later(() => o.emit('peer:up', { peer: mesh.self }));
      this.later(() => mesh.emit('peer:up', { peer: other }));
    }
  }

  /** @internal */
  leave(mesh: MemoryMesh): void {
    const linkedBefore = [...this.meshes.keys()].sort().filter((o) => this.linked(mesh.self, o));
    this.meshes.delete(mesh.self);
    for (const other of linkedBefore) {
      const o = this.meshes.get(other);
      if (o !== undefined) this.later(() => o.emit('peer:down', { peer: mesh.self }));
    }
  }

  /** @internal */
  peersOf(self: PeerId): PeerId[] {
    return [...this.meshes.keys()].filter((o) => this.linked(self, o)).sort();
  }

  /** @internal */
  broadcast(from: PeerId, topic: string, data: Uint8Array): void {
    for (const peer of this.peersOf(from)) {
      if (this.gossipDropped.has(linkKey(from, peer))) continue;
      const target = this.meshes.get(peer) as MemoryMesh;
      const copy = data.slice();
      this.later(() => {
        if (this.linked(from, peer) && target.subscribed(topic)) target.emit('message', { topic, from, data: copy });
      });
    }
  }

  /** @internal */
  async request(from: PeerId, peer: PeerId, protocol: string, data: Uint8Array, timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array> {
    const target = this.meshes.get(peer);
    if (target === undefined || !this.linked(from, peer)) throw new MeshRequestError(peer, protocol, 'unreachable');
    const handler = target.handlerFor(protocol);
    if (handler === undefined) throw new MeshRequestError(peer, protocol, 'protocol not supported');
    const controller = new AbortController();
    const timeout = this.clock.setTimer(timeoutMs, () => controller.abort(new MeshRequestError(peer, protocol, 'timeout')));
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.maybeLose(this.toLose, `${from}>${peer}`, controller.signal);
      await this.clock.sleep(this.latencyMs, { signal: controller.signal });
      if (!this.linked(from, peer)) throw new MeshRequestError(peer, protocol, 'unreachable');
      let response: Uint8Array;
      try {
        response = await handler(data.slice(), from, { signal: controller.signal });
      } catch (err) {
        throw new MeshRequestError(peer, protocol, `refused: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      await this.maybeLose(this.responsesToLose, `${from}>${peer}`, controller.signal);
      await this.clock.sleep(this.latencyMs, { signal: controller.signal });
      if (!this.linked(from, peer)) throw new MeshRequestError(peer, protocol, 'unreachable');
      return response.slice();
    } catch (err) {
      if (err instanceof MeshRequestError) throw err;
      throw new MeshRequestError(peer, protocol, err instanceof Error ? err.message : String(err), { cause: err });
    } finally {
      timeout.cancel();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** When `key` has losses left, takes one and waits until `signal` aborts (the request's timeout). */
  private async maybeLose(counts: Map<string, number>, key: string, signal: AbortSignal): Promise<void> {
    const left = counts.get(key) ?? 0;
    if (left === 0) return;
    counts.set(key, left - 1);
    await this.clock.sleep(1e12, { signal });
  }

  private later(fn: () => void): void {
    this.clock.setTimer(this.latencyMs, fn);
  }
}

export class MemoryMesh implements Mesh {
  private started = false;
  private readonly topics = new Set<string>();
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly events = new MeshEventHub((event, err) => console.error(`memory-mesh ${this.self}: ${event} listener threw`, err));

  constructor(private readonly hub: MemoryHub, readonly self: PeerId) {}

  start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.hub.join(this);
    }
    return Promise.resolve();
  }

  stop(): Promise<void> {
    if (this.started) {
      this.started = false;
      this.hub.leave(this);
    }
    return Promise.resolve();
  }

  /** The hub links every mesh to every other: nothing to dial. */
  addPeers(_addresses: readonly string[]): void {}

  peers(): PeerId[] {
    return this.started ? this.hub.peersOf(this.self) : [];
  }

  subscribe(topic: string): void {
    this.topics.add(topic);
  }

  unsubscribe(topic: string): void {
    this.topics.delete(topic);
  }

  publish(topic: string, data: Uint8Array): Promise<void> {
    if (this.started) this.hub.broadcast(this.self, topic, data);
    return Promise.resolve();
  }

  handle(protocol: string, handler: RequestHandler): void {
    if (this.handlers.has(protocol)) throw new Error(`protocol ${protocol} already handled`);
    this.handlers.set(protocol, handler);
  }

  unhandle(protocol: string): void {
    this.handlers.delete(protocol);
  }

  request(peer: PeerId, protocol: string, data: Uint8Array, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Uint8Array> {
    if (!this.started) return Promise.reject(new MeshRequestError(peer, protocol, 'mesh stopped'));
    return this.hub.request(this.self, peer, protocol, data, options?.timeoutMs ?? 5_000, options?.signal);
  }

  on<E extends MeshEventName>(event: E, listener: MeshListener<E>): () => void {
    return this.events.on(event, listener);
  }

  /** @internal */
  subscribed(topic: string): boolean {
    return this.started && this.topics.has(topic);
  }

  /** @internal */
  handlerFor(protocol: string): RequestHandler | undefined {
    return this.started ? this.handlers.get(protocol) : undefined;
  }

  /** @internal Delivers one event to every listener; a throwing listener does not stop the others. */
  emit<E extends MeshEventName>(event: E, payload: MeshEvents[E]): void {
    if (this.started) this.events.emit(event, payload);
  }
}
