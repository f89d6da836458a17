/**
 * The member record a node writes about itself when it starts.
 *
 * Pure: the caller passes the record it already holds (if any) and the clock's time.
 *  - A first start writes `joinedAt = now`, `incarnation = 0`, `leftAt = null`.
 *  - A restart that finds its own record keeps `joinedAt` and raises `incarnation` by one (the
 *    SWIM incarnation: "I am back, newer than any suspicion of the old me"), clearing `leftAt`.
 *
 * Limitation: a node that lost its document (damaged file, new disk with the old key) does not
 * see its old record until it has synced, so it writes a fresh one (incarnation 0) concurrently
 * with the old one, and Automerge's deterministic pick decides which one every node keeps. The
 * membership layer (failure detection, refutation) is where this is resolved.
 */
import type { Facts, Member } from '../state/schema.js';

/** What a node says about itself. */
export interface MemberIdentity {
  /** Human-readable name (hostname by default in the daemon). */
  name: string;
  /** Addresses other nodes may use (e.g. the mesh's multiaddrs). @default [] */
  addresses?: string[];
  facts: Facts;
  labels: Record<string, string>;
}

/** The record to write, given the node's current record (undefined on a first start). */
export function ownMemberRecord(current: Member | undefined, identity: MemberIdentity, now: number): Omit<Member, 'id'> {
  return {
    name: identity.name,
    addresses: [...(identity.addresses ?? [])],
    facts: { ...identity.facts },
    labels: { ...identity.labels },
    joinedAt: current?.joinedAt ?? now,
    leftAt: null,
    incarnation: current === undefined ? 0 : current.incarnation + 1,
  };
}
