/**
 * Failure-detector timings for tests that want verdicts within a few hundred milliseconds of
 * virtual time: the `lan` profile with 200 ms probes, an 80 ms probe timeout, suspicion x3 and a
 * reconnect probe every 2 s. Not a profile: nothing but tests runs with these.
 */
import type { MembershipConfig } from '../../src/membership/config.js';
import { membershipFor } from '../../src/membership/profiles.js';

export const FAST_TEST_OVERRIDES = { probeIntervalMs: 200, probeTimeoutMs: 80, suspicionMult: 3, reconnectIntervalMs: 2_000 } as const;

export function fastTestMembership(): MembershipConfig {
  return membershipFor('lan', FAST_TEST_OVERRIDES).membership;
}
