/**
 * Settings of the libp2p mesh, with one profile of defaults per deployment shape.
 *
 * {@link DEFAULT_MESH_CONFIG} is the LAN profile for a small edge site (3–50 devices on one
 * broadcast domain); {@link LOCAL_MESH_CONFIG} overrides only what differs for several nodes in
 * one process or on one host (tests, the benchmark). Every field says its default and why.
 */
import { createHash } from 'node:crypto';

/** Gossipsub tuning. Names follow the gossipsub spec; see docs/MESH.md. */
export interface GossipConfig {
  /** Target number of peers in each topic's full-message mesh. */
  D: number;
  /** Graft more peers when the topic mesh falls below this. */
  Dlo: number;
  /** Prune peers when the topic mesh grows above this. */
  Dhi: number;
  /** Peers (outside the mesh) that receive gossip (IHAVE) each heartbeat. */
  Dlazy: number;
  /** Outbound peers the topic mesh must keep (eclipse resistance). Must be < Dlo and <= D/2. */
  Dout: number;
  /** Time between gossipsub heartbeats (mesh maintenance and IHAVE gossip), ms. */
  heartbeatIntervalMs: number;
  /** How long fanout state for a topic we publish to but do not subscribe to is kept, ms. */
  fanoutTtlMs: number;
  /** Heartbeat windows of full messages kept for IWANT answers. */
  mcacheLength: number;
  /** Heartbeat windows of message ids advertised in IHAVE gossip. Must be <= mcacheLength. */
  mcacheGossip: number;
  /** How long a seen message id is remembered for de-duplication, ms. */
  seenTtlMs: number;
}

export interface MeshConfig {
  /** Transport: `tcp` for real hosts, `memory` for several nodes in one process. */
  transport: 'tcp' | 'memory';
  /** Multiaddrs to listen on (e.g. `/ip4/0.0.0.0/tcp/7496`, `/memory/node-a`). */
  listen: string[];
  /** Discover peers on the local link with mDNS. */
  mdns: boolean;
  /** Seconds between mDNS queries, in ms. */
  mdnsIntervalMs: number;
  /** mDNS service tag; when undefined it is derived from the cluster name (see mdnsServiceTag). */
  mdnsServiceTag: string | undefined;
  /** Multiaddrs (each ending in `/p2p/<peer id>`) dialled at start and whenever disconnected. */
  bootstrap: string[];
  /** Swarm key file contents (`/key/swarm/psk/1.0.0/` format); undefined = open network. */
  swarmKey: Uint8Array | string | undefined;
  /** Interval at which known-but-disconnected peers are redialled, ms (jittered ±20%). */
  redialIntervalMs: number;
  /** Open connections above which libp2p prunes the least valuable ones. */
  maxConnections: number;
  /** Inbound connections allowed to be mid-handshake at once. */
  maxIncomingPendingConnections: number;
  /** Time allowed for one dial (all addresses of a peer), ms. */
  dialTimeoutMs: number;
  /** Largest gossip message payload accepted or published, bytes. */
  maxMessageBytes: number;
  /** Largest request and largest response payload, bytes (checked on both sides). */
  maxRequestBytes: number;
  /** Default deadline of an outbound request, and deadline of an inbound one, ms. */
  requestTimeoutMs: number;
  /** Concurrent inbound streams per connection for each request protocol. */
  maxInboundRequestStreams: number;
  /** Gossipsub tuning. */
  gossip: GossipConfig;
  /** Route libp2p's own debug logs through the `debug` module (DEBUG=libp2p:*). */
  libp2pDebug: boolean;
}

/** PACE's default TCP port (unassigned by IANA; Serf uses 7946, IPFS 4001 — avoid both). */
export const DEFAULT_MESH_PORT = 7496;

/** LAN profile for a small edge site. */
export const DEFAULT_MESH_CONFIG: Readonly<MeshConfig> = Object.freeze({
  transport: 'tcp', // real devices talk TCP; QUIC/WebRTC add nothing on a LAN
  listen: [`/ip4/0.0.0.0/tcp/${DEFAULT_MESH_PORT}`], // all IPv4 interfaces, fixed port so bootstrap lists are writable by hand
  mdns: true, // zero-config discovery on the site LAN is the point of PACE
  mdnsIntervalMs: 10_000, // library default; answers to a newcomer's first query come at once, so this only bounds rediscovery
  mdnsServiceTag: undefined, // derived from the cluster name so two clusters on one LAN never dial each other
  bootstrap: [], // none: mDNS finds peers on a LAN; set for routed sites
  swarmKey: undefined, // open network unless the operator provisions a key
  redialIntervalMs: 10_000, // a restarted or re-cabled peer is back within ~10 s without hammering a dead one
  maxConnections: 128, // a full mesh of a 100-device site plus headroom; edge nodes have little RAM
  maxIncomingPendingConnections: 16, // a cold start of a whole site handshakes many peers at once
  dialTimeoutMs: 10_000, // LAN dials finish in ms; 10 s tolerates a loaded 2-core device
  maxMessageBytes: 1024 * 1024, // gossip carries single CRDT changes (KBs); bulk catch-up goes over requests
  maxRequestBytes: 16 * 1024 * 1024, // a sync message for a 1,000-member document with history fits with room to spare
  requestTimeoutMs: 30_000, // a 16 MiB response over a slow link still finishes; hung peers are cut off
  maxInboundRequestStreams: 32, // libp2p default; sync runs one exchange per peer at a time
  gossip: Object.freeze({
    D: 6, // spec default; in a site of <= 7 peers every peer is in the mesh
    Dlo: 4, // spec default; graft below this
    Dhi: 10, // below the spec's 12: fewer duplicate copies on small, low-power sites
    Dlazy: 6, // spec default gossip fan-out
    Dout: 2, // spec default; < Dlo and <= D/2
    heartbeatIntervalMs: 1_000, // spec default; mesh repair within ~1 s of a peer change
    fanoutTtlMs: 60_000, // spec default
    mcacheLength: 5, // spec default: messages are retransmittable for 5 heartbeats
    mcacheGossip: 3, // spec default: advertise the last 3 heartbeats in IHAVE
    seenTtlMs: 120_000, // spec default: de-duplicate for 2 minutes
  }),
  libp2pDebug: false, // libp2p's internal logs are noisy; PACE logs its own events through pino
}) as Readonly<MeshConfig>;

/** Several nodes in one process or on one host: differs from the LAN profile only where listed. */
export const LOCAL_MESH_CONFIG: Readonly<MeshConfig> = Object.freeze({
  ...DEFAULT_MESH_CONFIG,
  listen: ['/ip4/127.0.0.1/tcp/0'], // loopback, ephemeral port: many nodes on one host
  mdns: false, // never multicast from tests on the real host; tests that want mDNS use a netns
  redialIntervalMs: 2_000, // faster recovery after a stopped test peer
  gossip: Object.freeze({ ...DEFAULT_MESH_CONFIG.gossip, heartbeatIntervalMs: 200 }), // faster mesh formation
}) as Readonly<MeshConfig>;

/**
 * The mDNS service tag for `cluster`: `_pace-<slug>-<hash8>._udp.local`, where slug is the
 * name reduced to `[a-z0-9-]` (max 32 chars) and hash8 the first 8 hex digits of its
 * SHA-256, so distinct names never share a tag even when their slugs collide.
 */
export function mdnsServiceTag(cluster: string): string {
  const slug = cluster.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32) || 'cluster';
  const hash = createHash('sha256').update(cluster, 'utf8').digest('hex').slice(0, 8);
  return `_pace-${slug}-${hash}._udp.local`;
}
