import type { MembershipConfig } from './config.js';

/**
 * The formulas that scale timeouts and retransmissions with the cluster size N (members not
 * known to have left, self included). Pure; docs/MEMBERSHIP.md shows them with the defaults.
 */

/** max(1, log10(N)): how suspicion grows with the fleet (1 up to 10 nodes, 2 at 100). */
export function suspicionScale(n: number): number {
  return Math.max(1, Math.log10(Math.max(1, n)));
}

/** How many times each update is piggybacked: retransmitMult * ceil(log10(N + 1)). */
export function retransmitLimit(config: Pick<MembershipConfig, 'retransmitMult'>, n: number): number {
  return config.retransmitMult * Math.max(1, Math.ceil(Math.log10(Math.max(1, n) + 1)));
}

export interface SuspicionBounds {
  /** Timeout once `expectedConfirmations` independent suspicions arrived. */
  readonly minMs: number;
  /** Timeout of a fresh suspicion with no confirmation. */
  readonly maxMs: number;
  /** Independent confirmations (besides the first suspecter) that shrink it to `minMs`. */
  readonly expectedConfirmations: number;
}

/**
 * min = suspicionMult * max(1, log10(N)) * probeInterval; max = suspicionMaxTimeoutMult * min;
 * expected confirmations k = suspicionMult - 2, or 0 when fewer than k other nodes could
 * confirm (N - 2 < k), in which case the timeout is the minimum from the start.
 */
export function suspicionBounds(config: Pick<MembershipConfig, 'suspicionMult' | 'suspicionMaxTimeoutMult' | 'probeIntervalMs'>, n: number): SuspicionBounds {
  const minMs = Math.round(config.suspicionMult * suspicionScale(n) * config.probeIntervalMs);
  const maxMs = Math.round(config.suspicionMaxTimeoutMult * minMs);
  let k = Math.max(0, Math.floor(config.suspicionMult - 2));
  if (n - 2 < k) k = 0;
  return { minMs, maxMs, expectedConfirmations: k };
}

/**
 * Lifeguard's shrinking timeout after `c` independent confirmations:
 * max(min, max - (max - min) * log(c + 1) / log(k + 1)); `maxMs` when c = 0, `minMs` when c >= k.
 */
export function suspicionTimeoutMs(bounds: SuspicionBounds, confirmations: number): number {
  const { minMs, maxMs, expectedConfirmations: k } = bounds;
  if (k <= 0) return minMs;
  const fraction = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(minMs, Math.floor(maxMs - (maxMs - minMs) * fraction));
}
