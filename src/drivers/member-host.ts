/**
 * Which IP a node's cluster software should advertise: the first routable address among the
 * addresses its member record carries (libp2p multiaddrs like `/ip4/10.0.0.5/tcp/4001/p2p/…`,
 * or `host:port`). Loopback and unspecified addresses come last — only a single-host test
 * should end up advertising 127.0.0.1 — and IPv4 is preferred over IPv6.
 */
export function hostFromAddresses(addresses: readonly string[]): string | undefined {
  const hosts = addresses.map(hostOf).filter((h): h is string => h !== undefined && h !== '0.0.0.0' && h !== '::');
  const rank = (h: string): number => (isLoopback(h) ? 2 : 0) + (h.includes(':') ? 1 : 0);
  return [...hosts].sort((x, y) => rank(x) - rank(y))[0];
}

function hostOf(address: string): string | undefined {
  const multi = /^\/(ip4|ip6|dns4|dns6|dns)\/([^/]+)/.exec(address);
  if (multi) return multi[2];
  const hostPort = /^\[?([^\]]+?)\]?:\d+$/.exec(address);
  return hostPort?.[1];
}

function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1' || host === 'localhost';
}
