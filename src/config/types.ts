/**
 * The agent's configuration, as the daemon uses it after every source was merged
 * (docs/CONFIG.md; defaults in defaults.ts; how each field is read in fields.ts).
 */
import type { NodeFacts } from '../policy/types.js';
import type { MembershipProfileName } from '../membership/profiles.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export { MEMBERSHIP_PROFILE_NAMES, type MembershipProfileName } from '../membership/profiles.js';

/**
 * Failure-detection and replication timing under the agent's documented names; the values come
 * from the membership profiles (membership-timing.ts maps these keys onto their fields).
 * Durations are milliseconds.
 */
export interface MembershipTiming {
  /** Time between probes of one random member. */
  probeInterval: number;
  /** How long a direct probe waits for its ack before asking others to probe. */
  probeTimeout: number;
  /** How many members are asked to probe indirectly after a direct probe timed out. */
  indirectProbes: number;
  /** A suspect is declared down after at least suspicionMult * max(1, log10(N)) * probeInterval. */
  suspicionMult: number;
  /** Time between full anti-entropy syncs of the cluster document with one random peer. */
  syncInterval: number;
}

/** Hardware facts the node reports; each one set here overrides what is detected. */
export type FactOverrides = Partial<NodeFacts>;

export interface AgentConfig {
  /** This node's id in the cluster; '' means the host name. */
  nodeName: string;
  /** Nodes join only peers with the same cluster name. */
  clusterName: string;
  /** Directory for the node key, the saved cluster document and the API token. */
  dataDir: string;
  /** libp2p listen multiaddrs. */
  listen: string[];
  /** Multiaddrs of peers to dial at start (with /p2p/<peer id>). */
  bootstrap: string[];
  mdns: {
    /** Find peers on the local link by mDNS. */
    enabled: boolean;
    /** Network interface for mDNS; '' means all. */
    interface: string;
  };
  /** Path of the pre-shared network key (libp2p pnet); '' means an open network. */
  networkKeyFile: string;
  /** Trusted operator keys: `pace-ed25519 …` lines or paths of .pub files. */
  trustedKeys: string[];
  /** Fact overrides; unset facts are detected from the OS. */
  facts: FactOverrides;
  /** Labels the policy can select on (`node.labels.<key>`). */
  labels: Record<string, string>;
  api: {
    /** Address of the local HTTP API. */
    host: string;
    /** Port of the local HTTP API (0: any free port). */
    port: number;
    /** Unix socket for the API instead of HTTP on host:port; '' means HTTP. */
    socket: string;
  };
  logLevel: LogLevel;
  membership: { profile: MembershipProfileName } & MembershipTiming;
}
