/**
 * Every default of the agent's configuration, in one place (docs/CONFIG.md is the user-facing
 * copy). Membership timing comes from a profile: `lan` by default; `wan` and `local` override
 * only what differs, like memberlist's DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig.
 */
import { DEFAULT_DATA_DIR } from './paths.js';
import type { AgentConfig, MembershipProfileName, MembershipTiming } from './types.js';

/** Timing for nodes on one LAN (the default). Durations in milliseconds. */
export const LAN_TIMING: MembershipTiming = {
  probeInterval: 1_000, // 1s: probe one random member every second
  probeTimeout: 500, // 500ms: a direct probe without an ack by then triggers indirect probes
  indirectProbes: 3, // ask 3 other members to probe a node that missed its direct probe
  suspicionMult: 4, // suspect a node for 4 * log10(N+1) * probeInterval before declaring it down
  syncInterval: 30_000, // 30s: full document sync (anti-entropy) with one random peer
};

/** Profiles: `lan` as above; `wan` for sites linked over the internet; `local` for one host (tests). */
export const MEMBERSHIP_PROFILES: Readonly<Record<MembershipProfileName, MembershipTiming>> = {
  lan: LAN_TIMING,
  wan: {
    ...LAN_TIMING,
    probeInterval: 5_000, // 5s: WAN links are slow and lossy
    probeTimeout: 3_000, // 3s
    suspicionMult: 6, // more patience before declaring a node down
    syncInterval: 60_000, // 60s
  },
  local: {
    ...LAN_TIMING,
    probeTimeout: 200, // 200ms: loopback answers at once
    indirectProbes: 1, // one host: indirect paths add little
    suspicionMult: 3,
    syncInterval: 15_000, // 15s
  },
};

/** The built-in configuration: what an agent runs with when nothing else is set. */
export const DEFAULT_AGENT_CONFIG: Readonly<AgentConfig> = {
  nodeName: '', // '': use the host name (os.hostname())
  clusterName: 'default', // nodes only join peers with the same cluster name
  dataDir: DEFAULT_DATA_DIR, // node key, saved cluster document, API token (mode 0700)
  listen: ['/ip4/0.0.0.0/tcp/7600'], // libp2p listens on all IPv4 interfaces, TCP 7600
  bootstrap: [], // no bootstrap peers: rely on mDNS (or be the first node)
  mdns: {
    enabled: true, // find peers on the local link without configuration
    interface: '', // '': all interfaces
  },
  networkKeyFile: '', // '': no pre-shared network key (any libp2p peer may connect; policies are still signed)
  trustedKeys: [], // no trusted operator keys: every signed policy is rejected until one is set
  facts: {}, // no overrides: cpus, memoryMB, diskGB and arch are detected from the OS
  labels: {}, // no labels
  api: {
    host: '127.0.0.1', // local only; the API also needs the token in dataDir
    port: 7601, // HTTP port of the local API
    socket: '', // '': HTTP on host:port instead of a unix socket
  },
  logLevel: 'info', // pino level
  membership: { profile: 'lan', ...LAN_TIMING },
};
