import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LAN_MEMBERSHIP, DEFAULT_LOCAL_MEMBERSHIP, membershipConfig, validateMembershipConfig } from '../../src/membership/config.js';
import { MembershipConfigError } from '../../src/membership/errors.js';
import { retransmitLimit, suspicionBounds, suspicionScale, suspicionTimeoutMs } from '../../src/membership/timing.js';

describe('membership config', () => {
  it('has the documented LAN defaults', () => {
    assert.deepEqual(
      { ...DEFAULT_LAN_MEMBERSHIP },
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
      },
    );
    assert.ok(Object.isFrozen(DEFAULT_LAN_MEMBERSHIP));
  });

  it('local profile overrides only timings', () => {
    const differs = Object.keys(DEFAULT_LAN_MEMBERSHIP).filter((k) => DEFAULT_LAN_MEMBERSHIP[k as keyof typeof DEFAULT_LAN_MEMBERSHIP] !== DEFAULT_LOCAL_MEMBERSHIP[k as keyof typeof DEFAULT_LOCAL_MEMBERSHIP]);
    assert.deepEqual(differs.sort(), ['probeIntervalMs', 'probeTimeoutMs', 'reconnectIntervalMs', 'suspicionMult']);
    validateMembershipConfig(DEFAULT_LOCAL_MEMBERSHIP);
  });

  it('applies overrides and rejects unknown keys, wrong types and out-of-range values by field', () => {
    assert.equal(membershipConfig({ indirectChecks: 5 }).indirectChecks, 5);
    const bad: [Record<string, unknown>, string][] = [
      [{ probeIntervalMS: 10 }, 'probeIntervalMS'],
      [{ probeTimeoutMs: '500' }, 'probeTimeoutMs'],
      [{ probeTimeoutMs: 1_000 }, 'probeTimeoutMs'],
      [{ indirectChecks: 1.5 }, 'indirectChecks'],
      [{ suspicionMult: 0 }, 'suspicionMult'],
      [{ retransmitMult: Number.NaN }, 'retransmitMult'],
    ];
    for (const [overrides, field] of bad) {
      assert.throws(
        () => membershipConfig(overrides),
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
    assert.deepEqual([1, 9, 10, 99, 100, 999].map((n) => retransmitLimit(DEFAULT_LAN_MEMBERSHIP, n)), [4, 4, 8, 8, 12, 12]);
  });

  it('gives the documented LAN suspicion bounds', () => {
    assert.deepEqual(suspicionBounds(DEFAULT_LAN_MEMBERSHIP, 8), { minMs: 4_000, maxMs: 24_000, expectedConfirmations: 2 });
    assert.deepEqual(suspicionBounds(DEFAULT_LAN_MEMBERSHIP, 100), { minMs: 8_000, maxMs: 48_000, expectedConfirmations: 2 });
    // Too few nodes to confirm: the minimum from the start.
    assert.deepEqual(suspicionBounds(DEFAULT_LAN_MEMBERSHIP, 3), { minMs: 4_000, maxMs: 24_000, expectedConfirmations: 0 });
  });

  it('shrinks the timeout from max to min as independent confirmations arrive (Lifeguard)', () => {
    const bounds = suspicionBounds(DEFAULT_LAN_MEMBERSHIP, 8);
    const timeouts = [0, 1, 2, 3].map((c) => suspicionTimeoutMs(bounds, c));
    assert.deepEqual(timeouts, [24_000, 11_381, 4_000, 4_000]);
    assert.equal(suspicionTimeoutMs(suspicionBounds(DEFAULT_LAN_MEMBERSHIP, 3), 0), 4_000);
  });
});
