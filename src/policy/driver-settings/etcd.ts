/**
 * Settings of the `etcd` driver (`spec.driver.settings` in a policy), checked when the policy
 * is loaded so `pace policy check` reports them with the rest. See docs/DRIVERS.md.
 */
import { isAbsolute } from 'node:path';

export interface EtcdSettings {
  /** Parent of this node's etcd data: the member's data lives in `<dataDir>/<node id>` (absolute). @default /var/lib/pace/etcd */
  dataDir: string;
  /** @default 2379 */
  clientPort: number;
  /** @default 2380 */
  peerPort: number;
  /** @default /usr/bin/etcd */
  etcdBinary: string;
  /** @default /usr/bin/etcdctl */
  etcdctlBinary: string;
  /** Prefix of `--initial-cluster-token`; undefined: derived from the PACE cluster name. */
  clusterToken: string | undefined;
}

export const DEFAULT_ETCD_SETTINGS = { dataDir: '/var/lib/pace/etcd', clientPort: 2379, peerPort: 2380, etcdBinary: '/usr/bin/etcd', etcdctlBinary: '/usr/bin/etcdctl' } as const;
const KEYS = ['dataDir', 'clientPort', 'peerPort', 'etcdBinary', 'etcdctlBinary', 'clusterToken'];

/** The settings, or one problem per wrong field as `[field, message]`. */
export function parseEtcdSettings(settings: Readonly<Record<string, unknown>>): EtcdSettings | [string, string][] {
  const problems: [string, string][] = [];
  for (const key of Object.keys(settings)) if (!KEYS.includes(key)) problems.push([key, `unknown key for the etcd driver (allowed: ${KEYS.join(', ')})`]);
  const { dataDir = DEFAULT_ETCD_SETTINGS.dataDir, clusterToken } = settings;
  if (typeof dataDir !== 'string' || !isAbsolute(dataDir)) problems.push(['dataDir', `${JSON.stringify(dataDir)} is not an absolute directory path`]);
  const port = (key: 'clientPort' | 'peerPort'): number => {
    const value = settings[key];
    if (value === undefined) return DEFAULT_ETCD_SETTINGS[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65_535) problems.push([key, `${JSON.stringify(value)} is not a TCP port (1-65535)`]);
    return value as number;
  };
  const binary = (key: 'etcdBinary' | 'etcdctlBinary'): string => {
    const value = settings[key];
    if (value === undefined) return DEFAULT_ETCD_SETTINGS[key];
    if (typeof value !== 'string' || !isAbsolute(value)) problems.push([key, `${JSON.stringify(value)} is not an absolute path`]);
    return value as string;
  };
  const clientPort = port('clientPort');
  const peerPort = port('peerPort');
  if (problems.length === 0 && clientPort === peerPort) problems.push(['peerPort', 'clientPort and peerPort must differ']);
  const etcdBinary = binary('etcdBinary');
  const etcdctlBinary = binary('etcdctlBinary');
  if (clusterToken !== undefined && (typeof clusterToken !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(clusterToken))) {
    problems.push(['clusterToken', 'expected 1-64 characters of letters, digits, ".", "_" or "-"']);
  }
  if (problems.length > 0) return problems;
  return { dataDir: dataDir as string, clientPort, peerPort, etcdBinary, etcdctlBinary, clusterToken: clusterToken as string | undefined };
}
