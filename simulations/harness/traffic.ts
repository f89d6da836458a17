/** Traffic counters the simulated network keeps per node and for the whole fleet. */

/** Per-node traffic. Counters only grow and survive the node's restarts. */
export interface TrafficStats {
  /** Broadcasts this node published / delivered to this node's listeners. */
  messagesOut: number;
  messagesIn: number;
  /** Payload bytes of those broadcasts (counted once per publish on the way out). */
  bytesOut: number;
  bytesIn: number;
  /** Requests this node sent / requests that reached this node's mesh. */
  requestsOut: number;
  requestsIn: number;
  /** Request and response payload bytes this node sent / received. */
  requestBytesOut: number;
  requestBytesIn: number;
  /** Every copy this node put on a link / that arrived at it, of every kind, with overhead. */
  wireMessagesOut: number;
  wireMessagesIn: number;
  wireBytesOut: number;
  wireBytesIn: number;
}

/** Why the network did not deliver a copy of a message, request or response. */
export type NetworkDropReason =
  /** The link's loss probability. */
  | 'loss'
  /** The directed link was cut by a partition when sent or on arrival. */
  | 'partition'
  /** The receiver was stopped, crashed, or restarted (a new epoch) before arrival. */
  | 'down'
  /** A broadcast copy whose twin was already delivered (the gossipsub seen-cache). */
  | 'duplicate'
  /** The receiver unsubscribed from the topic before arrival. */
  | 'unsubscribed';

export const NETWORK_DROP_REASONS: readonly NetworkDropReason[] = ['loss', 'partition', 'down', 'duplicate', 'unsubscribed'];

export function emptyTrafficStats(): TrafficStats {
  return {
    messagesOut: 0,
    messagesIn: 0,
    bytesOut: 0,
    bytesIn: 0,
    requestsOut: 0,
    requestsIn: 0,
    requestBytesOut: 0,
    requestBytesIn: 0,
    wireMessagesOut: 0,
    wireMessagesIn: 0,
    wireBytesOut: 0,
    wireBytesIn: 0,
  };
}

export function emptyDropCounts(): Record<NetworkDropReason, number> {
  return { loss: 0, partition: 0, down: 0, duplicate: 0, unsubscribed: 0 };
}
