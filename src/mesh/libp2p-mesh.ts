/**
 * The libp2p 3 implementation of the {@link Mesh} seam: TCP (or in-process memory) transport,
 * Noise encryption, Yamux multiplexing, identify, ping, gossipsub for broadcast, mDNS and a
 * bootstrap list for discovery, and an optional pre-shared network key (`@libp2p/pnet`).
 *
 * Contracts beyond the Mesh interface:
 *  - Discovered peers (mDNS, bootstrap) are dialled; bootstrap and discovered peers that drop
 *    are redialled every `redialIntervalMs` (jittered with the injected Random).
 *  - `peer:up` fires when the first connection to a peer opens, `peer:down` when the last one
 *    closes, however many connections libp2p holds in between.
 *  - Gossip messages are signed (StrictSign); this node's own publishes are not delivered back
 *    to it. Inbound messages above `maxMessageBytes` are rejected by a topic validator (not
 *    delivered, not forwarded) and counted in `stats().dropped['message-too-large']`.
 *  - Requests use the wire format in request-wire.ts, capped at `maxRequestBytes` both ways.
 *    A garbage or oversized frame closes that one stream with a logged reason and a counter;
 *    nothing a peer sends can throw out of the node.
 *  - All timing (request deadlines, redial) goes through the injected Clock.
 */
import { setMaxListeners } from 'node:events';
import { bootstrap } from '@libp2p/bootstrap';
import { gossipsub, StrictSign, TopicValidatorResult } from '@libp2p/gossipsub';
import type { GossipSub, Message, TopicValidatorFn } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Identify } from '@libp2p/identify';
import type { Connection, PeerId as Libp2pPeerId, PeerInfo, PrivateKey, Stream } from '@libp2p/interface';
import { memory } from '@libp2p/memory';
import { mdns } from '@libp2p/mdns';
import { noise } from '@libp2p/noise';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import type { Ping } from '@libp2p/ping';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import type { Libp2p, Libp2pOptions } from 'libp2p';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { Clock, Timer } from '../seams/clock.js';
import type { Random } from '../seams/random.js';
import { MeshConfigError, MeshMessageTooLargeError, MeshNotStartedError, MeshProtocolInUseError } from './errors.js';
import { libp2pLogger } from './libp2p-logging.js';
import { MeshRequestError } from './mesh.js';
import type { Mesh, MeshEventName, MeshListener, PeerId, RequestHandler } from './mesh.js';
import { DEFAULT_MESH_CONFIG, mdnsServiceTag } from './mesh-config.js';
import type { GossipConfig, MeshConfig } from './mesh-config.js';
import { MeshEventHub } from './mesh-events.js';
import { MeshCounters } from './mesh-stats.js';
import type { DropReason, MeshStats } from './mesh-stats.js';
import { decodeResponse, encodeResponse, ENVELOPE_OVERHEAD } from './request-wire.js';
import type { ResponseEnvelope } from './request-wire.js';
import { readOneFrame, writeFrameAndClose } from './stream-io.js';
import { canonicalSwarmKeyBytes } from './swarm-key.js';
import { linkedSignal } from '../util/linked-signal.js';

/** User configuration: the cluster name plus any {@link MeshConfig} field to override. */
export interface Libp2pMeshInit extends Partial<Omit<MeshConfig, 'gossip'>> {
  /** Cluster name. The default mDNS service tag is derived from it. */
  cluster: string;
  /** Gossipsub fields to override; the rest come from the base profile. */
  gossip?: Partial<GossipConfig>;
  /** Profile the overrides apply to. @default DEFAULT_MESH_CONFIG */
  base?: Readonly<MeshConfig>;
}

/** Collaborators the mesh uses; it constructs none of them itself. */
export interface Libp2pMeshComponents {
  clock: Clock;
  random: Random;
  /** The node's ed25519 key (see identity.ts); its public half is the peer id. */
  privateKey: PrivateKey;
  /** PACE's own log lines (peer up/down, dropped traffic). @default a silent logger */
  logger?: Logger;
}

/** The Mesh plus what only the libp2p implementation can report. */
export interface Libp2pMesh extends Mesh {
  /** Traffic counters, including dropped inbound traffic by reason. */
  stats(): MeshStats;
  /** Listen addresses with the `/p2p/<peer id>` suffix (for bootstrap lists); [] when stopped. */
  addresses(): string[];
  /** The effective configuration (defaults merged with overrides). */
  readonly config: Readonly<MeshConfig>;
}

type Services = { identify: Identify; ping: Ping; pubsub: GossipSub };

/** Gossipsub's stream-level cap: anything up to 4x the message cap is decoded and counted. */
const GOSSIP_RPC_OVERHEAD_BYTES = 64 * 1024;
const REDIAL_JITTER = 0.2;

/** Builds a libp2p mesh. Nothing touches the network until `start()`. */
export function createLibp2pMesh(init: Libp2pMeshInit, components: Libp2pMeshComponents): Libp2pMesh {
  return new Libp2pMeshImpl(resolveConfig(init), init.cluster, components);
}

/** Merges `init` over its base profile and validates the result. @throws MeshConfigError */
export function resolveConfig(init: Libp2pMeshInit): MeshConfig {
  const base = init.base ?? DEFAULT_MESH_CONFIG;
  const { cluster, base: _base, gossip, ...overrides } = init;
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<MeshConfig>;
  const config: MeshConfig = { ...base, ...defined, gossip: { ...base.gossip, ...gossip } };
  if (cluster.length === 0) throw new MeshConfigError('cluster', 'must not be empty');
  for (const field of ['maxMessageBytes', 'maxRequestBytes', 'requestTimeoutMs', 'redialIntervalMs', 'maxConnections', 'dialTimeoutMs'] as const) {
    if (!Number.isSafeInteger(config[field]) || config[field] <= 0) throw new MeshConfigError(field, `must be a positive integer, got ${config[field]}`);
  }
  const g = config.gossip;
  if (!(g.Dlo <= g.D && g.D <= g.Dhi)) throw new MeshConfigError('gossip', `need Dlo <= D <= Dhi, got ${g.Dlo}/${g.D}/${g.Dhi}`);
  if (!(g.Dout < g.Dlo && g.Dout <= g.D / 2)) throw new MeshConfigError('gossip.Dout', 'must be < Dlo and <= D/2');
  if (g.mcacheGossip > g.mcacheLength) throw new MeshConfigError('gossip.mcacheGossip', 'must be <= mcacheLength');
  for (const addr of [...config.listen, ...config.bootstrap]) parseMultiaddr(addr, 'listen/bootstrap');
  for (const addr of config.bootstrap) {
    if (multiaddr(addr).getComponents().find((c) => c.name === 'p2p') === undefined) {
      throw new MeshConfigError('bootstrap', `${addr} must end in /p2p/<peer id>`);
    }
  }
  if (config.swarmKey !== undefined) canonicalSwarmKeyBytes(config.swarmKey);
  return config;
}

function parseMultiaddr(addr: string, field: string): Multiaddr {
  try {
    return multiaddr(addr);
  } catch (err) {
    throw new MeshConfigError(field, `${addr} is not a multiaddr (${err instanceof Error ? err.message : String(err)})`);
  }
}

class Libp2pMeshImpl implements Libp2pMesh {
  readonly self: PeerId;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly privateKey: PrivateKey;
  private readonly events: MeshEventHub;
  private readonly counters = new MeshCounters();
  private readonly topics = new Set<string>();
  private readonly handlers = new Map<string, RequestHandler>();
  /** Open connection ids per remote peer: peer:up on the first, peer:down after the last. */
  private readonly connections = new Map<PeerId, Set<string>>();
  /** Peers to keep connected: bootstrap entries (with an address) and discovered peers. */
  private readonly wanted = new Map<PeerId, Multiaddr | undefined>();
  /** Addresses peers advertise in the cluster document (addPeers), tried when no bootstrap address is known. */
  private readonly advertised = new Map<PeerId, Multiaddr[]>();
  private readonly dialing = new Set<PeerId>();
  private node: Libp2p<Services> | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private lifetime = new AbortController();
  private redialTimer: Timer | undefined;
  /** Serialises async registrar calls so handle/unhandle apply in call order. */
  private registrar: Promise<void> = Promise.resolve();

  constructor(readonly config: Readonly<MeshConfig>, private readonly cluster: string, components: Libp2pMeshComponents) {
    this.clock = components.clock;
    this.random = components.random;
    this.privateKey = components.privateKey;
    this.self = peerIdFromPrivateKey(components.privateKey).toString();
    this.log = (components.logger ?? pino({ level: 'silent' })).child({ component: 'mesh' });
    this.events = new MeshEventHub((event, err) => this.log.error({ err, event }, 'mesh listener threw'));
    for (const addr of config.bootstrap) {
      const ma = multiaddr(addr);
      const peer = ma.getComponents().find((c) => c.name === 'p2p')?.value;
      if (peer !== undefined && peer !== this.self) this.wanted.set(peer, ma);
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------

  start(): Promise<void> {
    if (this.node !== undefined) return Promise.resolve();
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.stopping !== undefined) await this.stopping;
    this.lifetime = new AbortController();
    // Every member is dialled at once with this signal (one dial per peer at most, each removing
    // its listener when done): a node with more than ten members would otherwise trip Node's
    // "possible EventTarget memory leak" warning at every start.
    setMaxListeners(0, this.lifetime.signal);
    const node = await createLibp2p<Services>(this.libp2pOptions());
    node.addEventListener('connection:open', (evt) => this.onConnectionOpen(evt.detail));
    node.addEventListener('connection:close', (evt) => this.onConnectionClose(evt.detail));
    node.addEventListener('peer:discovery', (evt) => this.onDiscovery(evt.detail));
    node.services.pubsub.addEventListener('message', (evt) => this.onGossip(evt.detail));
    await node.start();
    this.node = node;
    for (const topic of this.topics) this.subscribeOn(node, topic);
    for (const protocol of this.handlers.keys()) this.registerOn(node, protocol);
    await this.registrar;
    this.log.info({ peer: this.self, addresses: this.addresses() }, 'mesh started');
    for (const peer of this.wanted.keys()) this.dialPeer(peer);
    this.scheduleRedial();
  }

  stop(): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    if (this.node === undefined && this.starting === undefined) return Promise.resolve();
    this.stopping = this.doStop().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.starting !== undefined) await this.starting.catch(() => {});
    const node = this.node;
    if (node === undefined) return;
    this.lifetime.abort(new MeshNotStartedError('continue: mesh stopping'));
    this.redialTimer?.cancel();
    this.redialTimer = undefined;
    await this.registrar.catch(() => {});
    await node.stop();
    this.node = undefined;
    this.dialing.clear();
    for (const peer of [...this.connections.keys()].sort()) {
      this.connections.delete(peer);
      this.events.emit('peer:down', { peer });
    }
    this.log.info({ peer: this.self }, 'mesh stopped');
  }

  private libp2pOptions(): Libp2pOptions<Services> {
    const c = this.config;
    const g = c.gossip;
    const options: Libp2pOptions<Services> = {
      start: false,
      privateKey: this.privateKey,
      addresses: { listen: c.listen },
      transports: c.transport === 'memory' ? [memory()] : [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: {
        maxConnections: c.maxConnections,
        maxIncomingPendingConnections: c.maxIncomingPendingConnections,
        dialTimeout: c.dialTimeoutMs,
      },
      peerDiscovery: [],
      logger: libp2pLogger(c.libp2pDebug),
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipsub({
          emitSelf: false,
          globalSignaturePolicy: StrictSign,
          allowPublishToZeroTopicPeers: true,
          D: g.D,
          Dlo: g.Dlo,
          Dhi: g.Dhi,
          Dlazy: g.Dlazy,
          Dout: g.Dout,
          heartbeatInterval: g.heartbeatIntervalMs,
          fanoutTTL: g.fanoutTtlMs,
          mcacheLength: g.mcacheLength,
          mcacheGossip: g.mcacheGossip,
          seenTTL: g.seenTtlMs,
          maxInboundDataLength: 4 * c.maxMessageBytes + GOSSIP_RPC_OVERHEAD_BYTES,
        }),
      },
    };
    if (c.mdns) {
      options.peerDiscovery?.push(mdns({ serviceTag: c.mdnsServiceTag ?? mdnsServiceTag(this.cluster), interval: c.mdnsIntervalMs }));
    }
    if (c.bootstrap.length > 0) options.peerDiscovery?.push(bootstrap({ list: c.bootstrap }));
    if (c.swarmKey !== undefined) options.connectionProtector = preSharedKey({ psk: canonicalSwarmKeyBytes(c.swarmKey) });
    return options;
  }

  // ---- peers -----------------------------------------------------------------------------

  peers(): PeerId[] {
    return [...this.connections.keys()].sort();
  }

  addresses(): string[] {
    return this.node?.getMultiaddrs().map((ma) => ma.toString()) ?? [];
  }

  stats(): MeshStats {
    return this.counters.snapshot();
  }

  on<E extends MeshEventName>(event: E, listener: MeshListener<E>): () => void {
    return this.events.on(event, listener);
  }

  private onConnectionOpen(connection: Connection): void {
    const peer = connection.remotePeer.toString();
    let ids = this.connections.get(peer);
    const first = ids === undefined;
    if (ids === undefined) {
      ids = new Set();
      this.connections.set(peer, ids);
    }
    ids.add(connection.id);
    if (first) {
      this.log.info({ peer, addr: connection.remoteAddr.toString() }, 'peer up');
      this.events.emit('peer:up', { peer });
    }
  }

  private onConnectionClose(connection: Connection): void {
    const peer = connection.remotePeer.toString();
    const ids = this.connections.get(peer);
    if (ids === undefined || !ids.delete(connection.id) || ids.size > 0) return;
    this.connections.delete(peer);
    this.log.info({ peer }, 'peer down');
    this.events.emit('peer:down', { peer });
  }

  private onDiscovery(info: PeerInfo): void {
    const peer = info.id.toString();
    if (peer === this.self) return;
    if (!this.wanted.has(peer)) this.wanted.set(peer, undefined);
    this.dialPeer(peer);
  }

  addPeers(addresses: readonly string[]): void {
    for (const text of addresses) {
      let ma: Multiaddr;
      try {
        ma = multiaddr(text);
      } catch {
        continue;
      }
      const peer = ma.getComponents().find((c) => c.name === 'p2p')?.value;
      if (peer === undefined || peer === this.self) continue;
      const known = this.advertised.get(peer) ?? [];
      if (!known.some((k) => k.equals(ma))) this.advertised.set(peer, [...known, ma]);
      if (!this.wanted.has(peer)) this.wanted.set(peer, undefined);
      this.dialPeer(peer);
    }
  }

  /** Dials `peer` unless it is connected or a dial is already running; failures are logged. */
  private dialPeer(peer: PeerId): void {
    const node = this.node;
    if (node === undefined || this.connections.has(peer) || this.dialing.has(peer)) return;
    this.dialing.add(peer);
    const address = this.wanted.get(peer);
    const advertised = this.advertised.get(peer);
    const target: Libp2pPeerId | Multiaddr | Multiaddr[] = address ?? (advertised && advertised.length > 0 ? advertised : peerIdFromString(peer));
    node
      .dial(target, { signal: this.lifetime.signal })
      .then(
        () => this.log.debug({ peer }, 'dialled peer'),
        (err: unknown) => this.log.debug({ peer, err: errorText(err) }, 'dial failed'),
      )
      .finally(() => this.dialing.delete(peer));
  }

  private scheduleRedial(): void {
    const base = this.config.redialIntervalMs;
    const delay = base * (1 - REDIAL_JITTER + 2 * REDIAL_JITTER * this.random.float());
    this.redialTimer = this.clock.setTimer(delay, () => {
      if (this.node === undefined) return;
      for (const peer of this.wanted.keys()) this.dialPeer(peer);
      this.scheduleRedial();
    });
  }

  // ---- gossip ----------------------------------------------------------------------------

  subscribe(topic: string): void {
    if (this.topics.has(topic)) return;
    this.topics.add(topic);
    if (this.node !== undefined) this.subscribeOn(this.node, topic);
  }

  unsubscribe(topic: string): void {
    if (!this.topics.delete(topic)) return;
    const pubsub = this.node?.services.pubsub;
    if (pubsub === undefined) return;
    pubsub.unsubscribe(topic);
    pubsub.topicValidators.delete(topic);
  }

  private subscribeOn(node: Libp2p<Services>, topic: string): void {
    node.services.pubsub.topicValidators.set(topic, this.validator);
    node.services.pubsub.subscribe(topic);
  }

  /** Rejects (drops, does not forward, counts) gossip above `maxMessageBytes`. */
  private readonly validator: TopicValidatorFn = (source, message) => {
    if (message.data.byteLength <= this.config.maxMessageBytes) return TopicValidatorResult.Accept;
    this.drop('message-too-large', {
      peer: source.toString(),
      topic: message.topic,
      size: message.data.byteLength,
      limit: this.config.maxMessageBytes,
    });
    return TopicValidatorResult.Reject;
  };

  async publish(topic: string, data: Uint8Array): Promise<void> {
    const node = this.node;
    if (node === undefined) throw new MeshNotStartedError(`publish on ${topic}`);
    if (data.byteLength > this.config.maxMessageBytes) throw new MeshMessageTooLargeError(topic, data.byteLength, this.config.maxMessageBytes);
    await node.services.pubsub.publish(topic, data);
    this.counters.messageOut(data.byteLength);
  }

  private onGossip(message: Message): void {
    if (message.type !== 'signed' || !this.topics.has(message.topic)) return;
    if (message.data.byteLength > this.config.maxMessageBytes) return; // the validator counted it
    this.counters.messageIn(message.data.byteLength);
    this.events.emit('message', { topic: message.topic, from: message.from.toString(), data: message.data });
  }

  // ---- request/response ------------------------------------------------------------------

  handle(protocol: string, handler: RequestHandler): void {
    if (!protocol.startsWith('/')) throw new MeshConfigError('protocol', `${protocol} must start with '/'`);
    if (this.handlers.has(protocol)) throw new MeshProtocolInUseError(protocol);
    this.handlers.set(protocol, handler);
    if (this.node !== undefined) this.registerOn(this.node, protocol);
  }

  unhandle(protocol: string): void {
    if (!this.handlers.delete(protocol)) return;
    const node = this.node;
    if (node === undefined) return;
    this.registrar = this.registrar.then(() => node.unhandle(protocol)).catch((err: unknown) => this.log.error({ protocol, err: errorText(err) }, 'unhandle failed'));
  }

  private registerOn(node: Libp2p<Services>, protocol: string): void {
    const streamHandler = (stream: Stream, connection: Connection): Promise<void> => this.answer(protocol, stream, connection);
    this.registrar = this.registrar
      .then(() => node.handle(protocol, streamHandler, { maxInboundStreams: this.config.maxInboundRequestStreams, force: true }))
      .catch((err: unknown) => this.log.error({ protocol, err: errorText(err) }, 'handle failed'));
  }

  /** Serves one inbound request stream. Never rejects: every failure is logged and counted. */
  private async answer(protocol: string, stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const deadline = new AbortController();
    const timer = this.clock.setTimer(this.config.requestTimeoutMs, () => deadline.abort(new Error(`no answer within ${this.config.requestTimeoutMs} ms`)));
    const linked = linkedSignal([deadline.signal, this.lifetime.signal]);
    const signal = linked.signal;
    try {
      let request: Uint8Array;
      try {
        request = await readOneFrame(stream, this.config.maxRequestBytes, signal);
      } catch (err) {
        const reason: DropReason = errorName(err) === 'FrameTooLargeError' ? 'frame-too-large' : deadline.signal.aborted ? 'request-timeout' : 'frame-malformed';
        this.drop(reason, { peer, protocol, err: errorText(err) });
        if (reason === 'frame-too-large') await this.reply(stream, { type: 'rejected', reason: errorText(err) }, signal);
        else stream.abort(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.counters.requestIn(request.byteLength);
      const handler = this.handlers.get(protocol);
      let envelope: ResponseEnvelope;
      if (handler === undefined) {
        envelope = { type: 'rejected', reason: `no handler for ${protocol}` };
      } else {
        try {
          const body = await handler(request, peer, { signal });
          if (body.byteLength > this.config.maxRequestBytes) {
            this.drop('response-too-large', { peer, protocol, size: body.byteLength, limit: this.config.maxRequestBytes });
            envelope = { type: 'rejected', reason: `response of ${body.byteLength} bytes exceeds the ${this.config.maxRequestBytes}-byte limit` };
          } else {
            envelope = { type: 'ok', body };
          }
        } catch (err) {
          this.log.warn({ peer, protocol, err: errorText(err) }, 'request handler failed');
          envelope = { type: 'error', reason: errorText(err) };
        }
      }
      if (deadline.signal.aborted) {
        this.drop('request-timeout', { peer, protocol });
        stream.abort(new Error('request timed out'));
        return;
      }
      await this.reply(stream, envelope, signal);
    } catch (err) {
      this.log.debug({ peer, protocol, err: errorText(err) }, 'request stream failed');
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    } finally {
      timer.cancel();
      linked.dispose();
    }
  }

  private async reply(stream: Stream, envelope: ResponseEnvelope, signal: AbortSignal): Promise<void> {
    const bytes = encodeResponse(envelope);
    await writeFrameAndClose(stream, bytes, signal);
    this.counters.requestBytes('out', bytes.byteLength - ENVELOPE_OVERHEAD);
  }

  async request(peer: PeerId, protocol: string, data: Uint8Array, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Uint8Array> {
    const node = this.node;
    if (node === undefined) throw new MeshRequestError(peer, protocol, 'mesh is not started');
    if (data.byteLength > this.config.maxRequestBytes) {
      throw new MeshRequestError(peer, protocol, `request of ${data.byteLength} bytes exceeds the ${this.config.maxRequestBytes}-byte limit`);
    }
    let remote: Libp2pPeerId;
    try {
      remote = peerIdFromString(peer);
    } catch (err) {
      throw new MeshRequestError(peer, protocol, 'not a peer id', { cause: err });
    }
    options.signal?.throwIfAborted();
    const timeoutMs = options.timeoutMs ?? this.config.requestTimeoutMs;
    const deadline = new AbortController();
    const timer = this.clock.setTimer(timeoutMs, () => deadline.abort(new Error(`timed out after ${timeoutMs} ms`)));
    const signals = [deadline.signal, this.lifetime.signal];
    if (options.signal !== undefined) signals.push(options.signal);
    const linked = linkedSignal(signals);
    const signal = linked.signal;
    let stream: Stream | undefined;
    try {
      stream = await node.dialProtocol(remote, protocol, { signal });
      await writeFrameAndClose(stream, data, signal);
      this.counters.requestBytes('out', data.byteLength);
      const frame = await readOneFrame(stream, this.config.maxRequestBytes + ENVELOPE_OVERHEAD, signal);
      const envelope = decodeResponse(frame);
      if (envelope === undefined) {
        this.drop('frame-malformed', { peer, protocol, err: 'unknown response status' });
        throw new MeshRequestError(peer, protocol, 'malformed response (unknown status byte)');
      }
      if (envelope.type === 'error') throw new MeshRequestError(peer, protocol, `remote handler failed: ${envelope.reason}`);
      if (envelope.type === 'rejected') throw new MeshRequestError(peer, protocol, `rejected by peer: ${envelope.reason}`);
      this.counters.requestOut();
      this.counters.requestBytes('in', envelope.body.byteLength);
      return envelope.body;
    } catch (err) {
      if (err instanceof MeshRequestError) throw err;
      if (errorName(err) === 'FrameTooLargeError') this.drop('frame-too-large', { peer, protocol, err: errorText(err) });
      if (errorName(err) === 'MalformedFrameError') this.drop('frame-malformed', { peer, protocol, err: errorText(err) });
      stream?.abort(err instanceof Error ? err : new Error(String(err)));
      const reason = deadline.signal.aborted
        ? `timed out after ${timeoutMs} ms`
        : options.signal?.aborted === true
          ? 'aborted by caller'
          : this.lifetime.signal.aborted
            ? 'mesh stopped'
            : `${errorName(err)}: ${errorText(err)}`;
      throw new MeshRequestError(peer, protocol, reason, { cause: err });
    } finally {
      timer.cancel();
      linked.dispose();
    }
  }

  private drop(reason: DropReason, details: Record<string, unknown>): void {
    this.counters.drop(reason);
    this.log.warn({ ...details, reason }, 'dropped inbound traffic');
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'Error';
}
