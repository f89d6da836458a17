/**
 * The membership profiles: every timing of failure detection and anti-entropy, in one table. The
 * agent runs the profile its `membership.profile` names (docs/CONFIG.md maps its keys onto these
 * fields), the simulator runs the one a scenario names, and both run `lan` when nothing is said.
 * `lan` is written out in full with every field commented; `wan` and `local` override only what
 * differs (memberlist's DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig are the model).
 * docs/MEMBERSHIP.md tabulates them; the formulas that use them live in `timing.ts`.
 */
import { checkField, membershipConfig, type MembershipConfig } from './config.js';

export const MEMBERSHIP_PROFILE_NAMES = ['lan', 'wan', 'local'] as const;
export type MembershipProfileName = (typeof MEMBERSHIP_PROFILE_NAMES)[number];

/** What the daemon runs with when nothing else is said. */
export const DEFAULT_MEMBERSHIP_PROFILE: MembershipProfileName = 'lan';

/** A profile: the failure detector's complete config and the anti-entropy interval. Milliseconds. */
export interface MembershipProfile extends MembershipConfig {
  /** Mean time between anti-entropy sessions with one random peer (the replicator's `syncIntervalMs`). */
  syncIntervalMs: number;
}

/** Nodes on one LAN of edge devices: the default. */
const LAN: MembershipProfile = {
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
  // Anti-entropy: every interval (each wait uniform in [0.5, 1.5) x it) run a full document
  // sync with one random peer. Gossip carries changes at once; this repairs what it lost.
  syncIntervalMs: 30_000,
};

/** Every profile by name. Frozen: derive a changed copy with {@link membershipFor}. */
export const MEMBERSHIP_PROFILES: Readonly<Record<MembershipProfileName, Readonly<MembershipProfile>>> = Object.freeze({
  lan: Object.freeze(LAN),
  /** Sites linked over the internet: slow, lossy links. */
  wan: Object.freeze({
    ...LAN,
    probeIntervalMs: 5_000,
    probeTimeoutMs: 3_000,
    suspicionMult: 6, // more patience before declaring a node down
    syncIntervalMs: 60_000,
  }),
  /**
   * Every node on one host (loopback). The agent's `local` profile, which the agents benchmark
   * compares with Serf's `-profile=local` (the same probe interval, timeout and suspicion).
   */
  local: Object.freeze({
    ...LAN,
    probeTimeoutMs: 200, // loopback answers at once
    indirectChecks: 1, // one host: indirect paths add little
    suspicionMult: 3,
    // A healed partition or a restarted node on the same host is noticed within 2 s, not 30:
    // reconnect probes to loopback cost nothing (the agent's `local` profile has always done so).
    reconnectIntervalMs: 2_000,
    syncIntervalMs: 15_000,
  }),
});

/** A profile with overrides, split the way a node takes it. */
export interface MembershipSettings {
  /** The failure detector's config. */
  membership: MembershipConfig;
  /** The replicator's anti-entropy interval. */
  syncIntervalMs: number;
}

/**
 * Profile `profile` with `overrides` (fields of {@link MembershipProfile}) applied, validated.
 * Unknown keys, non-numbers and out-of-range values raise `MembershipConfigError` naming the field.
 */
export function membershipFor(profile: MembershipProfileName = DEFAULT_MEMBERSHIP_PROFILE, overrides: Readonly<Record<string, unknown>> = {}): MembershipSettings {
  const { syncIntervalMs: base, ...detector } = MEMBERSHIP_PROFILES[profile];
  const { syncIntervalMs = base, ...rest } = overrides;
  checkField('syncIntervalMs', syncIntervalMs, 1);
  return { membership: membershipConfig(rest, detector), syncIntervalMs: syncIntervalMs as number };
}

/** The failure detector's config of the default profile. */
export const DEFAULT_MEMBERSHIP: Readonly<MembershipConfig> = Object.freeze(membershipFor().membership);
