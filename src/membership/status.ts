/**
 * Member statuses and the rule that orders claims about one member.
 *
 * - `alive`: answering probes (or not yet shown otherwise).
 * - `suspect`: missed a direct and indirect probe; declared `down` when its suspicion expires
 *   unless it refutes first.
 * - `down`: declared failed (SWIM's "dead"). Only a higher incarnation from the node itself
 *   brings it back.
 * - `left`: announced a graceful leave itself.
 *
 * Precedence: a higher incarnation always wins. At equal incarnation left > down > suspect >
 * alive, so an accusation can only be overturned by the accused node bumping its incarnation
 * (refutation), and a stale `alive` never undoes a newer accusation.
 */
export type MemberStatus = 'alive' | 'suspect' | 'down' | 'left';

export const MEMBER_STATUSES: readonly MemberStatus[] = ['alive', 'suspect', 'down', 'left'];

const RANK: Readonly<Record<MemberStatus, number>> = { alive: 0, suspect: 1, down: 2, left: 3 };

/** A status claim about one member. */
export interface StatusClaim {
  readonly status: MemberStatus;
  readonly incarnation: number;
}

/** True when `incoming` should replace `current` (see the precedence rule above). */
export function supersedes(incoming: StatusClaim, current: StatusClaim): boolean {
  if (incoming.incarnation !== current.incarnation) return incoming.incarnation > current.incarnation;
  return RANK[incoming.status] > RANK[current.status];
}

export function isMemberStatus(value: unknown): value is MemberStatus {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}
