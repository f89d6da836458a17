import { DROP_REASONS, type DropReason } from './wire.js';

/** Counters since the detector was constructed. Requests and responses both count as messages. */
export interface MembershipStats {
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Inbound messages dropped, by reason. */
  drops: Record<DropReason, number>;
  /** Direct probes started by this node's probe loop. */
  probes: number;
  /** Probes that needed indirect checks (no direct ack). */
  indirectProbes: number;
  /** Pings sent again to a probe's target in place of missing indirect helpers (see docs/MEMBERSHIP.md). */
  directRetries: number;
  /** Members this node itself started suspecting. */
  suspicionsRaised: number;
  /** Times this node refuted a claim about itself. */
  refutations: number;
  /** Updates about nodes outside the member list, ignored. */
  unknownMemberUpdates: number;
}

export function emptyStats(): MembershipStats {
  const drops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  return {
    messagesSent: 0,
    messagesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    drops,
    probes: 0,
    indirectProbes: 0,
    directRetries: 0,
    suspicionsRaised: 0,
    refutations: 0,
    unknownMemberUpdates: 0,
  };
}

/** A deep copy, so callers cannot change the live counters. */
export function copyStats(stats: MembershipStats): MembershipStats {
  return { ...stats, drops: { ...stats.drops } };
}
