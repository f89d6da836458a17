import { MembershipConfigError } from './errors.js';

/**
 * Failure-detector timings and limits. Every duration is in milliseconds of the injected
 * Clock. Formulas that use these values live in `timing.ts`; docs/MEMBERSHIP.md tabulates them.
 */
export interface MembershipConfig {
  probeIntervalMs: number;
  probeTimeoutMs: number;
  indirectChecks: number;
  suspicionMult: number;
  suspicionMaxTimeoutMult: number;
  retransmitMult: number;
  awarenessMaxMultiplier: number;
  maxPiggybackBytes: number;
  maxMessageBytes: number;
  reconnectIntervalMs: number;
}

/**
 * Defaults for a LAN of edge devices (memberlist's DefaultLANConfig is the model). Every other
 * profile starts from this and overrides only what differs.
 */
export function defaultLanMembershipConfig(): MembershipConfig {
  return {
    // Each node probes one member per interval (randomized round-robin). Per-node traffic is
    // about 2 requests + 2 responses per interval, whatever the fleet size.
    probeIntervalMs: 1_000,
    // Wait this long for a direct ack before asking `indirectChecks` peers to probe for us.
    // Should exceed the LAN's 99th-percentile round trip. Must be < probeIntervalMs: the
    // indirect probes use the rest of the interval.
    probeTimeoutMs: 500,
    // Number of peers asked to ping a target that missed its direct ack (SWIM's k). Saves
    // nodes behind one bad link from false suspicion.
    indirectChecks: 3,
    // Suspect a node for at least suspicionMult * max(1, log10(N)) * probeInterval before
    // declaring it down (4 s for N <= 10, 8 s at N = 100).
    suspicionMult: 4,
    // A new suspicion starts at suspicionMaxTimeoutMult times that minimum (24 s for N <= 10)
    // and shrinks toward the minimum as independent suspicions of the same node arrive
    // (Lifeguard); suspicionMult - 2 confirmations reach the minimum.
    suspicionMaxTimeoutMult: 6,
    // Each membership update is piggybacked retransmitMult * ceil(log10(N + 1)) times
    // (4 for N <= 9, 8 for N <= 99), enough to reach every node with high probability.
    retransmitMult: 4,
    // Lifeguard local health: a node that misses acks and nacks assumes it is itself slow and
    // stretches its probe interval and timeout up to this factor instead of accusing others.
    awarenessMaxMultiplier: 8,
    // Budget for updates piggybacked on one message (about 6 updates with libp2p peer ids).
    // Bounds the bytes a node sends per interval during churn.
    maxPiggybackBytes: 1_024,
    // Inbound SWIM messages larger than this are dropped unread (reason `too-large`).
    maxMessageBytes: 16_384,
    // Every interval, ping one member believed down (without accusing it again), so a healed
    // partition or a restarted node is noticed and refutes its verdict.
    reconnectIntervalMs: 30_000,
  };
}

/** Fast timings for tests and a fleet on one machine; everything else is the LAN default. */
export function localMembershipConfig(): MembershipConfig {
  return {
    ...defaultLanMembershipConfig(),
    // Loopback round trips are sub-millisecond.
    probeIntervalMs: 200,
    probeTimeoutMs: 80,
    // Shorter suspicion: 600 ms minimum, 3.6 s maximum for N <= 10.
    suspicionMult: 3,
    reconnectIntervalMs: 2_000,
  };
}

export const DEFAULT_LAN_MEMBERSHIP: Readonly<MembershipConfig> = Object.freeze(defaultLanMembershipConfig());
export const DEFAULT_LOCAL_MEMBERSHIP: Readonly<MembershipConfig> = Object.freeze(localMembershipConfig());

const INTEGER_FIELDS: ReadonlySet<string> = new Set(['indirectChecks', 'awarenessMaxMultiplier', 'maxPiggybackBytes', 'maxMessageBytes']);

/** Smallest accepted value per field; `probeTimeoutMs < probeIntervalMs` is checked separately. */
const MINIMUM: Readonly<Record<keyof MembershipConfig, number>> = {
  probeIntervalMs: 1,
  probeTimeoutMs: 1,
  indirectChecks: 0,
  suspicionMult: 1,
  suspicionMaxTimeoutMult: 1,
  retransmitMult: 1,
  awarenessMaxMultiplier: 1,
  maxPiggybackBytes: 0,
  maxMessageBytes: 256,
  reconnectIntervalMs: 1,
};

/**
 * `base` with `overrides` applied, validated. Unknown keys, non-finite or out-of-range values
 * and a probe timeout not below the probe interval raise {@link MembershipConfigError}.
 */
export function membershipConfig(overrides: Readonly<Record<string, unknown>> = {}, base: Readonly<MembershipConfig> = DEFAULT_LAN_MEMBERSHIP): MembershipConfig {
  const out: MembershipConfig = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(MINIMUM, key)) throw new MembershipConfigError(key, 'unknown key');
    if (typeof value !== 'number') throw new MembershipConfigError(key, `expected a number, got ${typeof value}`);
    out[key as keyof MembershipConfig] = value;
  }
  validateMembershipConfig(out);
  return out;
}

/** Throws {@link MembershipConfigError} for the first invalid field of a complete config. */
export function validateMembershipConfig(config: Readonly<MembershipConfig>): void {
  for (const [field, min] of Object.entries(MINIMUM)) {
    const value: unknown = (config as unknown as Record<string, unknown>)[field];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new MembershipConfigError(field, 'must be a finite number');
    if (value < min) throw new MembershipConfigError(field, `must be >= ${min}, got ${value}`);
    if (INTEGER_FIELDS.has(field) && !Number.isInteger(value)) throw new MembershipConfigError(field, `must be an integer, got ${value}`);
  }
  if (config.probeTimeoutMs >= config.probeIntervalMs) {
    throw new MembershipConfigError('probeTimeoutMs', `must be < probeIntervalMs (${config.probeIntervalMs}), got ${config.probeTimeoutMs}`);
  }
}
