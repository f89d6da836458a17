import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateMembershipConfig } from '../../src/membership/config.js';
import { DEFAULT_MEMBERSHIP, DEFAULT_MEMBERSHIP_PROFILE, MEMBERSHIP_PROFILE_NAMES, MEMBERSHIP_PROFILES, membershipFor, type MembershipProfile } from '../../src/membership/profiles.js';
import { MembershipConfigError } from '../../src/membership/errors.js';
import { retransmitLimit, suspicionBounds, suspicionScale, suspicionTimeoutMs } from '../../src/membership/timing.js';

describe('membership profiles', () => {
  it('lan, the default, has the documented values, frozen', () => {
    assert.equal(DEFAULT_MEMBERSHIP_PROFILE, 'lan');
    assert.deepEqual(
      { ...MEMBERSHIP_PROFILES.lan },
      {
        probeIntervalMs: 1_000,
        probeTimeoutMs: 500,
        indirectChecks: 3,
        suspicionMult: 4,
        suspicionMaxTimeoutMult: 6,
        retransmitMult: 4,
        awarenessMaxMultiplier: 8,
        maxPiggybackBytes: 1_024,
        maxMessageBytes: 16_384,
        reconnectIntervalMs: 30_000,
        syncIntervalMs: 30_000,
      },
    );
    assert.ok(Object.isFrozen(MEMBERSHIP_PROFILES) && Object.isFrozen(MEMBERSHIP_PROFILES.lan) && Object.isFrozen(DEFAULT_MEMBERSHIP));
    const { syncIntervalMs, ...detector } = MEMBERSHIP_PROFILES.lan;
    assert.deepEqual({ ...DEFAULT_MEMBERSHIP }, detector);
    assert.deepEqual(membershipFor(), { membership: detector, syncIntervalMs });
  });

  it('wan and local override only what differs from lan, and each is valid', () => {
    const differs = (name: 'wan' | 'local'): Record<string, number> =>
      Object.fromEntries(Object.entries(MEMBERSHIP_PROFILES[name]).filter(([k, v]) => MEMBERSHIP_PROFILES.lan[k as keyof MembershipProfile] !== v));
    assert.deepEqual(differs('wan'), { probeIntervalMs: 5_000, probeTimeoutMs: 3_000, suspicionMult: 6, syncIntervalMs: 60_000 });
    assert.deepEqual(differs('local'), { probeTimeoutMs: 200, indirectChecks: 1, suspicionMult: 3, reconnectIntervalMs: 2_000, syncIntervalMs: 15_000 });
    for (const name of MEMBERSHIP_PROFILE_NAMES) validateMembershipConfig(membershipFor(name).membership);
  });

  it('applies overrides, the sync interval among them, and rejects unknown keys, wrong types and out-of-range values by field', () => {
    assert.equal(membershipFor('lan', { indirectChecks: 5 }).membership.indirectChecks, 5);
    assert.deepEqual(membershipFor('local', { syncIntervalMs: 2_000, probeIntervalMs: 400 }), { membership: { ...membershipFor('local').membership, probeIntervalMs: 400 }, syncIntervalMs: 2_000 });
    const bad: [Record<string, unknown>, string][] = [
      [{ probeIntervalMS: 10 }, 'probeIntervalMS'],
      [{ probeTimeoutMs: '500' }, 'probeTimeoutMs'],
      [{ probeTimeoutMs: 1_000 }, 'probeTimeoutMs'],
      [{ indirectChecks: 1.5 }, 'indirectChecks'],
      [{ suspicionMult: 0 }, 'suspicionMult'],
      [{ retransmitMult: Number.NaN }, 'retransmitMult'],
      [{ syncIntervalMs: 0 }, 'syncIntervalMs'],
      [{ syncIntervalMs: '30s' }, 'syncIntervalMs'],
    ];
    for (const [overrides, field] of bad) {
      assert.throws(
        () => membershipFor('lan', overrides),
        (err: unknown) => err instanceof MembershipConfigError && err.name === 'MembershipConfigError' && err.field === field,
        JSON.stringify(overrides),
      );
    }
  });
});

describe('membership timing formulas', () => {
  it('scales suspicion with max(1, log10 N) and retransmissions with ceil(log10(N + 1))', () => {
    assert.equal(suspicionScale(1), 1);
    assert.equal(suspicionScale(10), 1);
    assert.equal(suspicionScale(100), 2);
    assert.deepEqual([1, 9, 10, 99, 100, 999].map((n) => retransmitLimit(DEFAULT_MEMBERSHIP, n)), [4, 4, 8, 8, 12, 12]);
  });

  it('gives the documented LAN suspicion bounds', () => {
    assert.deepEqual(suspicionBounds(DEFAULT_MEMBERSHIP, 8), { minMs: 4_000, maxMs: 24_000, expectedConfirmations: 2 });
    assert.deepEqual(suspicionBounds(DEFAULT_MEMBERSHIP, 100), { minMs: 8_000, maxMs: 48_000, expectedConfirmations: 2 });
    // Too few nodes to confirm: the minimum from the start.
    assert.deepEqual(suspicionBounds(DEFAULT_MEMBERSHIP, 3), { minMs: 4_000, maxMs: 24_000, expectedConfirmations: 0 });
  });

  it('shrinks the timeout from max to min as independent confirmations arrive (Lifeguard)', () => {
    const bounds = suspicionBounds(DEFAULT_MEMBERSHIP, 8);
    const timeouts = [0, 1, 2, 3].map((c) => suspicionTimeoutMs(bounds, c));
    assert.deepEqual(timeouts, [24_000, 11_381, 4_000, 4_000]);
    assert.equal(suspicionTimeoutMs(suspicionBounds(DEFAULT_MEMBERSHIP, 3), 0), 4_000);
  });
});
