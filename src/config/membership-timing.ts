/**
 * The agent's `membership.*` settings are the membership profiles' (src/membership/profiles.ts)
 * under their documented names (docs/CONFIG.md); this is the one mapping between the two.
 */
import { MEMBERSHIP_PROFILES, membershipFor, type MembershipProfile, type MembershipSettings } from '../membership/profiles.js';
import type { AgentConfig, MembershipProfileName, MembershipTiming } from './types.js';

/** Each agent key and the profile field it sets. */
const PROFILE_FIELD = {
  probeInterval: 'probeIntervalMs',
  probeTimeout: 'probeTimeoutMs',
  indirectProbes: 'indirectChecks',
  suspicionMult: 'suspicionMult',
  syncInterval: 'syncIntervalMs',
} as const satisfies Record<keyof MembershipTiming, keyof MembershipProfile>;

/** The agent's timing keys, in the order docs/CONFIG.md lists them. */
export const TIMING_KEYS = Object.keys(PROFILE_FIELD) as readonly (keyof MembershipTiming)[];

/** Profile `profile`'s values under the agent's keys. */
export function profileTiming(profile: MembershipProfileName): MembershipTiming {
  const values = MEMBERSHIP_PROFILES[profile];
  return Object.fromEntries(TIMING_KEYS.map((key) => [key, values[PROFILE_FIELD[key]]])) as unknown as MembershipTiming;
}

/** What the daemon runs with: the agent's profile with the agent's timings over it. */
export function agentMembership(m: AgentConfig['membership']): MembershipSettings {
  return membershipFor(m.profile, Object.fromEntries(TIMING_KEYS.map((key) => [PROFILE_FIELD[key], m[key]])));
}
