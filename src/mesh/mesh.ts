/**
 * Mesh seam: how a PACE node talks to its peers.
 *
 * Two implementations share this contract: the libp2p mesh (TCP, Noise, Yamux, gossipsub,
 * mDNS/bootstrap, optional pre-shared key) used by the daemon, and the simulated mesh in
 * `simulations/` (virtual time, seeded loss/latency/partitions). A shared compliance suite
 * runs against both.
 *
 * Concurrency contract: listeners are called on the event loop, one event at a time, in the
 * order the mesh observed them. A listener that throws is logged by the mesh and does not stop
 * delivery to other listeners. Request handlers may be called concurrently for different peers.
 */
export type PeerId = string;

export interface MeshEvents {
  /** A peer became reachable (first connection opened). */
  'peer:up': { peer: PeerId };
  /** A peer is no longer reachable (last connection closed). */
  'peer:down': { peer: PeerId };
  /**
   * A broadcast message arrived on a subscribed topic. `from` is the original publisher.
   * Listeners must not modify `data` (a mesh may hand the same bytes to several listeners, or,
   * simulated, to every receiver).
   */
  'message': { topic: string; from: PeerId; data: Uint8Array };
}

export type MeshEventName = keyof MeshEvents;
export type MeshListener<E extends MeshEventName> = (event: MeshEvents[E]) => void;

/** Answers one request from a peer; the returned bytes are the response. */
export type RequestHandler = (request: Uint8Array, from: PeerId, options: { signal: AbortSignal }) => Promise<Uint8Array>;

export interface Mesh {
  /** This node's peer id (stable across restarts when the key is persisted). */
  readonly self: PeerId;
  /** Starts listening, discovery and dialling. Safe to call twice. */
  start(): Promise<void>;
  /** Closes every connection and stops timers. Safe to call twice. */
  stop(): Promise<void>;
  /** Peers with an open connection now, sorted. */
  peers(): PeerId[];
  /** Receive `message` events for `topic`. */
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Best-effort broadcast to every subscriber of `topic` (no replay for late subscribers). */
  publish(topic: string, data: Uint8Array): Promise<void>;
  /** Registers the handler for a pairwise request/response protocol. One handler per protocol. */
  handle(protocol: string, handler: RequestHandler): void;
  unhandle(protocol: string): void;
  /** Sends one request to `peer` and waits for its response, or throws (timeout, unreachable, refused). */
  request(peer: PeerId, protocol: string, data: Uint8Array, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Uint8Array>;
  /**
   * Peers this node should stay connected to, with the addresses they advertise (multiaddrs
   * ending in /p2p/<id>, e.g. from members' records in the cluster document). The mesh dials
   * them and redials while disconnected, so the mesh does not depend on the one bootstrap or
   * mDNS peer that introduced a node. Idempotent; unknown or unusable addresses are ignored.
   */
  addPeers(addresses: readonly string[]): void;
  /** Adds a listener; returns a function that removes it. */
  on<E extends MeshEventName>(event: E, listener: MeshListener<E>): () => void;
}

/** Raised by `request` when the peer cannot be reached or does not answer in time. */
export class MeshRequestError extends Error {
  override readonly name = 'MeshRequestError';
  constructor(readonly peer: PeerId, readonly protocol: string, reason: string, options?: { cause?: unknown }) {
    super(`request ${protocol} to ${peer} failed: ${reason}`, options);
  }
}
