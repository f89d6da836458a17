/**
 * Every default of the agent's configuration, in one place (docs/CONFIG.md is the user-facing
 * copy). Membership timing comes from the membership profiles (src/membership/profiles.ts):
 * the default profile's values, under the agent's key names.
 */
import { DEFAULT_MEMBERSHIP_PROFILE } from '../membership/profiles.js';
import { profileTiming } from './membership-timing.js';
import { DEFAULT_DATA_DIR } from './paths.js';
import type { AgentConfig } from './types.js';

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
  membership: { profile: DEFAULT_MEMBERSHIP_PROFILE, ...profileTiming(DEFAULT_MEMBERSHIP_PROFILE) }, // lan, as the table has it: 1s probes, sync every 30s
};
