/**
 * A test-only Mesh wrapper that silently drops inbound broadcast messages on chosen topics
 * while passing everything else (peers, requests, publishes) through to the real mesh: the
 * "gossip was lost" fault on a real libp2p mesh. `dropped` counts what it swallowed.
 */
import type { Mesh, MeshEventName, MeshListener, PeerId, RequestHandler } from '../../src/mesh/mesh.js';

export class GossipDroppingMesh implements Mesh {
  /** Inbound messages swallowed so far. */
  dropped = 0;
  /** While true, messages on the filtered topics are dropped. */
  active = true;

  constructor(private readonly inner: Mesh, private readonly topics: ReadonlySet<string>) {}

  get self(): PeerId {
    return this.inner.self;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  peers(): PeerId[] {
    return this.inner.peers();
  }

  addPeers(addresses: readonly string[]): void {
    this.inner.addPeers(addresses);
  }

  subscribe(topic: string): void {
    this.inner.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    this.inner.unsubscribe(topic);
  }

  publish(topic: string, data: Uint8Array): Promise<void> {
    return this.inner.publish(topic, data);
  }

  handle(protocol: string, handler: RequestHandler): void {
    this.inner.handle(protocol, handler);
  }

  unhandle(protocol: string): void {
    this.inner.unhandle(protocol);
  }

  request(peer: PeerId, protocol: string, data: Uint8Array, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Uint8Array> {
    return this.inner.request(peer, protocol, data, options);
  }

  on<E extends MeshEventName>(event: E, listener: MeshListener<E>): () => void {
    if (event !== 'message') return this.inner.on(event, listener);
    const deliver = listener as MeshListener<'message'>;
    return this.inner.on('message', (e) => {
      if (this.active && this.topics.has(e.topic)) {
        this.dropped++;
        return;
      }
      deliver(e);
    });
  }
}
