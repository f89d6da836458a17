/**
 * Counters the libp2p mesh keeps about its traffic. Counters only grow; `snapshot()` returns a
 * copy, so callers can diff two snapshots.
 */

/** Why an inbound message, request or response was dropped. */
export type DropReason =
  /** A gossip message above `maxMessageBytes`. */
  | 'message-too-large'
  /** A request (or response) frame above `maxRequestBytes`. */
  | 'frame-too-large'
  /** A request/response stream with a bad length prefix, trailing bytes, or an early end. */
  | 'frame-malformed'
  /** An inbound request whose handler did not answer before `requestTimeoutMs`. */
  | 'request-timeout'
  /** A handler's response above `maxRequestBytes` (the requester gets a `rejected` reply). */
  | 'response-too-large';

export const DROP_REASONS: readonly DropReason[] = ['message-too-large', 'frame-too-large', 'frame-malformed', 'request-timeout', 'response-too-large'];

export interface MeshStats {
  /** Gossip messages delivered to this node's listeners / published by this node. */
  messagesIn: number;
  messagesOut: number;
  /** Payload bytes of those messages. */
  bytesIn: number;
  bytesOut: number;
  /** Requests this node answered (handler ran) / sent and got a response for. */
  requestsIn: number;
  requestsOut: number;
  /** Request + response payload bytes received / sent on request streams. */
  requestBytesIn: number;
  requestBytesOut: number;
  /** Inbound traffic dropped, by reason. */
  dropped: Record<DropReason, number>;
}

export class MeshCounters {
  private readonly s: MeshStats = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    requestsIn: 0,
    requestsOut: 0,
    requestBytesIn: 0,
    requestBytesOut: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
  };

  messageIn(bytes: number): void {
    this.s.messagesIn++;
    this.s.bytesIn += bytes;
  }

  messageOut(bytes: number): void {
    this.s.messagesOut++;
    this.s.bytesOut += bytes;
  }

  requestIn(bytes: number): void {
    this.s.requestsIn++;
    this.s.requestBytesIn += bytes;
  }

  requestOut(): void {
    this.s.requestsOut++;
  }

  requestBytes(direction: 'in' | 'out', bytes: number): void {
    if (direction === 'in') this.s.requestBytesIn += bytes;
    else this.s.requestBytesOut += bytes;
  }

  drop(reason: DropReason): void {
    this.s.dropped[reason]++;
  }

  snapshot(): MeshStats {
    return { ...this.s, dropped: { ...this.s.dropped } };
  }
}
