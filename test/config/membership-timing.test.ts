/** The agent's membership settings are the membership profiles under their documented names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../src/config/agent-config.js';
import { DEFAULT_AGENT_CONFIG } from '../../src/config/defaults.js';
import { agentMembership, profileTiming } from '../../src/config/membership-timing.js';
import { MEMBERSHIP_PROFILE_NAMES, membershipFor } from '../../src/membership/profiles.js';

const host = { hostname: 'box-7', facts: { cpus: 4, memoryMB: 8192, diskGB: 120, arch: 'amd64' } };

test('the agent defaults are the lan profile under the documented keys', () => {
  assert.deepEqual(DEFAULT_AGENT_CONFIG.membership, { profile: 'lan', probeInterval: 1_000, probeTimeout: 500, indirectProbes: 3, suspicionMult: 4, syncInterval: 30_000 });
  assert.deepEqual(profileTiming('local'), { probeInterval: 1_000, probeTimeout: 200, indirectProbes: 1, suspicionMult: 3, syncInterval: 15_000 });
  assert.deepEqual(profileTiming('wan'), { probeInterval: 5_000, probeTimeout: 3_000, indirectProbes: 3, suspicionMult: 6, syncInterval: 60_000 });
});

test('an agent that sets nothing but its profile runs exactly that profile', () => {
  for (const profile of MEMBERSHIP_PROFILE_NAMES) {
    const r = resolveConfig({ host, env: { PACE_MEMBERSHIP_PROFILE: profile } });
    assert.ok(r.ok);
    assert.deepEqual(agentMembership(r.resolved.config.membership), membershipFor(profile), profile);
  }
});

test('each agent key sets its profile field; the fields the agent has no key for stay the profile\'s', () => {
  const r = resolveConfig({ host, flags: { 'membership-profile': 'local', 'probe-interval': '2s', 'probe-timeout': '1s', 'indirect-probes': '2', 'suspicion-mult': '5', 'sync-interval': '7s' } });
  assert.ok(r.ok);
  assert.deepEqual(agentMembership(r.resolved.config.membership), {
    membership: { ...membershipFor('local').membership, probeIntervalMs: 2_000, probeTimeoutMs: 1_000, indirectChecks: 2, suspicionMult: 5 },
    syncIntervalMs: 7_000,
  });
});
