/**
 * The simulated network a fleet of {@link SimMesh}es talks over: per-link latency, jitter,
 * loss and duplication, symmetric and one-way partitions, node crash and restart, peer
 * up/down detection with a delay, and traffic counters — all in the scheduler's virtual time,
 * every random draw from forks of one seeded {@link Random}.
 *
 * The model (docs/SIMULATION.md has the full list of simplifications):
 * - Connectivity is a full mesh: every started node may connect to every other. Two nodes are
 *   *reachable* when both are started and both directions of their link are open; a
 *   connection needs both directions, so a one-way cut takes the connection down at both ends
 *   (`peer:down`) while packets in the open direction still arrive.
 * - A node's view (`peers()`, `peer:up`/`peer:down`) follows reachability after a delay:
 *   `connectDelayMs` for a start, a graceful stop and a healed link; `failureDetectionMs` for
 *   a crash and a newly cut link. A change that reverts within the delay is never seen. A node
 *   that restarts (a new *epoch*) is seen as down then up.
 * - A broadcast is sent by the publisher straight to every subscriber (gossipsub's flood
 *   publishing), each copy over its own link. A copy is lost with the link's `loss`, duplicated
 *   with its `duplicate` probability, delayed by `latencyMs + U[0, jitterMs)`. Duplicates are
 *   hidden from listeners like gossipsub's seen-cache does unless `dedupBroadcasts` is false.
 * - Gossipsub's mesh forwarding, modelled where it matters: when the publisher's copy to a
 *   subscriber is lost, `relayPaths` other subscribers (drawn at random, standing in for the
 *   receiver's mesh peers) each forward the message to it, two hops over lossy links, and the
 *   first to arrive is delivered. Relays are modelled only for lost copies — forwarding of
 *   copies that arrive directly is duplicates a seen-cache drops, so it changes nothing a node
 *   sees, and its traffic is not counted. A partitioned or crashed relay forwards nothing.
 *   `relayPaths: 0` is a flat broadcast: every lost copy is lost for good (the repair paths —
 *   digests, anti-entropy — then do all the work).
 * - A request and its response each cross one link with loss and latency but are never
 *   duplicated (a stream is reliable; a lost one models a reset).
 * - A copy is delivered only if the directed link is open when it is sent and when it arrives,
 *   and the receiver is still the same started epoch on arrival.
 */
import type { Clock } from '../../src/seams/clock.js';
import type { PeerId } from '../../src/mesh/mesh.js';
import { DEFAULT_MESH_CONFIG } from '../../src/mesh/mesh-config.js';
import type { Random } from '../../src/seams/random.js';
import { LinkTable, type LinkProfile } from './links.js';
import { PartitionTable } from './partitions.js';
import type { Scheduler } from './scheduler.js';
import { SimMesh, type InboundRequest, type RequestOutcome, type SimMeshInbox, type SimMeshInit, type SimMeshPort } from './sim-mesh.js';
import type { Trace, TraceDetails } from './trace.js';
import { emptyDropCounts, emptyTrafficStats, type NetworkDropReason, type TrafficStats } from './traffic.js';

export interface SimNetworkInit {
  scheduler: Scheduler;
  /** The network's random stream (e.g. `root.fork('network')`); it forks one stream per sender. */
  random: Random;
  /** Where network events are recorded. @default none */
  trace?: Trace;
  /** The default link profile. @default DEFAULT_LINK */
  link?: Partial<LinkProfile>;
  /** Delay before a newly reachable peer (start, heal, graceful stop) is seen. @default 5 */
  connectDelayMs?: number;
  /** Delay before an unreachable peer (crash, partition) is seen as down. @default 1_000 */
  failureDetectionMs?: number;
  /** Bytes added to every copy's wire size for headers and framing. @default 64 */
  overheadBytes?: number;
  /** Hide duplicate broadcast copies from listeners (gossipsub's seen-cache). @default true */
  dedupBroadcasts?: boolean;
  /**
   * Mesh peers that forward a broadcast copy the publisher's link lost (see the model above).
   * @default DEFAULT_RELAY_PATHS, gossipsub's mesh degree D in PACE's mesh profile
   */
  relayPaths?: number;
}

export const DEFAULT_CONNECT_DELAY_MS = 5;
export const DEFAULT_FAILURE_DETECTION_MS = 1_000;
export const DEFAULT_OVERHEAD_BYTES = 64;
export const DEFAULT_RELAY_PATHS = DEFAULT_MESH_CONFIG.gossip.D;

/** What the network knows about one node id, across its restarts. */
interface Host {
  readonly id: PeerId;
  /** Incremented at every start; in-flight traffic to an older epoch is dropped. */
  epoch: number;
  started: boolean;
  mesh: SimMesh | undefined;
  inbox: SimMeshInbox | undefined;
  readonly stats: TrafficStats;
  /** The sender-side random stream, forked lazily from the network stream by node id. */
  random: Random | undefined;
}

/** Which kind of traffic a copy carries. */
type CopyKind = 'msg' | 'req' | 'res';

/**
 * Concurrency contract: single-threaded; every method is called from test code or from
 * scheduler events, never concurrently. All randomness is drawn in event order, so a seed
 * fixes every outcome.
 */
export class SimNetwork {
  readonly scheduler: Scheduler;
  readonly links: LinkTable;
  readonly #partitions = new PartitionTable();
  readonly #random: Random;
  readonly #trace: Trace | undefined;
  readonly #connectDelayMs: number;
  readonly #failureDetectionMs: number;
  readonly #overheadBytes: number;
  readonly #dedup: boolean;
  readonly #relayPaths: number;
  readonly #hosts = new Map<PeerId, Host>();
  /** Started node ids, sorted. */
  #started: PeerId[] = [];
  /** Topic → started subscribers; the sorted array is rebuilt lazily. */
  readonly #subscribers = new Map<string, { set: Set<PeerId>; sorted: PeerId[] | undefined }>();
  readonly #dropped = emptyDropCounts();
  #nextMessageId = 1;
  #nextRequestId = 1;

  constructor(init: SimNetworkInit) {
    this.scheduler = init.scheduler;
    this.#random = init.random;
    this.#trace = init.trace;
    this.links = new LinkTable(init.link);
    this.#connectDelayMs = init.connectDelayMs ?? DEFAULT_CONNECT_DELAY_MS;
    this.#failureDetectionMs = init.failureDetectionMs ?? DEFAULT_FAILURE_DETECTION_MS;
    this.#overheadBytes = init.overheadBytes ?? DEFAULT_OVERHEAD_BYTES;
    this.#dedup = init.dedupBroadcasts ?? true;
    this.#relayPaths = init.relayPaths ?? DEFAULT_RELAY_PATHS;
    if (!Number.isInteger(this.#relayPaths) || this.#relayPaths < 0) throw new RangeError(`relayPaths must be a whole number >= 0, got ${init.relayPaths}`);
  }

  get #clock(): Clock {
    return this.scheduler.clock;
  }

  /**
   * A new mesh for node `id` (not started). The first call introduces the node; later calls
   * restart it as a new process, and are allowed only once its previous mesh is stopped or
   * crashed. Traffic counters carry over.
   */
  createMesh(id: PeerId, init: SimMeshInit = {}): SimMesh {
    let host = this.#hosts.get(id);
    if (host === undefined) {
      host = { id, epoch: 0, started: false, mesh: undefined, inbox: undefined, stats: emptyTrafficStats(), random: undefined };
      this.#hosts.set(id, host);
    } else if (host.mesh !== undefined && (host.mesh.state === 'new' || host.mesh.state === 'started')) {
      throw new Error(`node ${id} already has a live mesh (${host.mesh.state}); stop or crash it first`);
    }
    const target = host;
    let inbox: SimMeshInbox | undefined;
    const port = this.#portFor(target, (attached) => {
      inbox = attached;
    });
    const mesh = new SimMesh(id, port, init);
    target.mesh = mesh;
    target.inbox = inbox;
    return mesh;
  }

  /** Node ids ever given a mesh, sorted. */
  nodes(): PeerId[] {
    return [...this.#hosts.keys()].sort();
  }

  /** The node's current mesh, if it has one. */
  mesh(id: PeerId): SimMesh | undefined {
    return this.#hosts.get(id)?.mesh;
  }

  /** Whether the node's mesh is started (not stopped, not crashed). */
  isUp(id: PeerId): boolean {
    return this.#hosts.get(id)?.started ?? false;
  }

  /**
   * Kills node `id`'s process: its mesh goes silent at once (no events, pending requests never
   * settle), traffic in flight to it is dropped, and the others see `peer:down` after
   * `failureDetectionMs`. Restart with `createMesh(id)` + `start()`. No-op unless started.
   * (Halting the node's own timers is the caller's part: `NodeClock.halt()`.)
   */
  crash(id: PeerId): void {
    const host = this.#hosts.get(id);
    if (host === undefined || !host.started || host.mesh === undefined) return;
    this.#trace?.record(id, 'node:crash', { epoch: host.epoch });
    host.inbox?.crash();
    this.#leave(host, this.#failureDetectionMs);
  }

  /** Splits the fleet into groups (see {@link PartitionTable.partition}); replaces the previous split. */
  partition(groups: readonly (readonly PeerId[])[]): void {
    this.#changeLinks('net:partition', () => this.#partitions.partition(groups));
  }

  /** Cuts every link from a node in `from` to a node in `to`; the reverse stays open. Accumulates. */
  blockOneWay(from: readonly PeerId[], to: readonly PeerId[]): void {
    this.#changeLinks('net:block', () => this.#partitions.blockOneWay(from, to));
  }

  /** Removes every partition and one-way block. */
  heal(): void {
    this.#changeLinks('net:heal', () => this.#partitions.heal());
  }

  /** Whether traffic from `from` to `to` would pass the partitions now (ignores liveness). */
  isLinkOpen(from: PeerId, to: PeerId): boolean {
    return this.#partitions.isOpen(from, to);
  }

  /** Both started and both directions open. */
  reachable(a: PeerId, b: PeerId): boolean {
    const ha = this.#hosts.get(a);
    const hb = this.#hosts.get(b);
    return ha !== undefined && hb !== undefined && ha.started && hb.started && this.#partitions.isOpen(a, b) && this.#partitions.isOpen(b, a);
  }

  /** A copy of node `id`'s traffic counters (zeros for an unknown node). */
  stats(id: PeerId): TrafficStats {
    return { ...(this.#hosts.get(id)?.stats ?? emptyTrafficStats()) };
  }

  /** Every node's counters added up. */
  totals(): TrafficStats {
    const total = emptyTrafficStats();
    for (const host of this.#hosts.values()) {
      for (const key of Object.keys(total) as (keyof TrafficStats)[]) total[key] += host.stats[key];
    }
    return total;
  }

  /** Copies the network did not deliver, by reason. */
  dropped(): Record<NetworkDropReason, number> {
    return { ...this.#dropped };
  }

  // ---- the port each SimMesh talks through -------------------------------------------------

  #portFor(host: Host, attach: (inbox: SimMeshInbox) => void): SimMeshPort {
    const isCurrent = (mesh: SimMesh): boolean => host.mesh === mesh;
    return {
      clock: this.#clock,
      attach,
      started: (mesh) => {
        if (isCurrent(mesh)) this.#join(host);
      },
      stopped: (mesh) => {
        if (isCurrent(mesh) && host.started) {
          this.#trace?.record(host.id, 'node:stop', { epoch: host.epoch });
          this.#leave(host, this.#connectDelayMs);
        }
      },
      subscriptionChanged: (mesh, topic, subscribed) => {
        if (!isCurrent(mesh) || !host.started) return;
        if (subscribed) this.#addSubscriber(topic, host.id);
        else this.#removeSubscriber(topic, host.id);
      },
      publish: (mesh, topic, data) => {
        if (isCurrent(mesh) && host.started) this.#publish(host, topic, data);
      },
      sendRequest: (mesh, to, protocol, data) => {
        const id = this.#nextRequestId++;
        if (isCurrent(mesh) && host.started) this.#sendRequest(host, to, protocol, data, id);
        return id;
      },
      sendResponse: (mesh, to, id, outcome) => {
        if (isCurrent(mesh) && host.started) this.#sendResponse(host, to, id, outcome);
      },
      reachable: (from, to) => this.reachable(from, to),
      trace: (mesh, kind, details) => {
        if (isCurrent(mesh)) this.#trace?.record(host.id, kind, details);
      },
    };
  }

  // ---- membership of the running set -------------------------------------------------------

  #join(host: Host): void {
    host.epoch++;
    host.started = true;
    insertSorted(this.#started, host.id);
    for (const topic of host.mesh?.topics() ?? []) this.#addSubscriber(topic, host.id);
    this.#trace?.record(host.id, 'node:start', { epoch: host.epoch });
    this.#clock.setTimer(this.#connectDelayMs, () => this.#reconcileNode(host.id));
  }

  #leave(host: Host, detectionMs: number): void {
    host.started = false;
    removeSorted(this.#started, host.id);
    for (const topic of host.mesh?.topics() ?? []) this.#removeSubscriber(topic, host.id);
    this.#clock.setTimer(detectionMs, () => this.#reconcileNode(host.id));
  }

  /** Brings every view involving `id` in line with reachability now. */
  #reconcileNode(id: PeerId): void {
    const host = this.#hosts.get(id);
    for (const other of this.#started.slice()) {
      if (other === id) continue;
      this.#reconcilePair(other, id);
      if (host?.started === true) this.#reconcilePair(id, other);
    }
  }

  /** Tells `observer` whether `subject` is reachable now, and at which epoch. */
  #reconcilePair(observer: PeerId, subject: PeerId): void {
    const o = this.#hosts.get(observer);
    const s = this.#hosts.get(subject);
    if (o === undefined || s === undefined || !o.started) return;
    o.inbox?.observe(subject, this.reachable(observer, subject) ? s.epoch : undefined);
  }

  /**
   * Applies a partition change and schedules view updates for exactly the started pairs whose
   * reachability it changed: newly reachable after `connectDelayMs`, newly cut after
   * `failureDetectionMs`.
   */
  #changeLinks(kind: string, change: () => void): void {
    const nodes = this.#started.slice();
    const before = this.#reachabilityMatrix(nodes);
    change();
    this.#trace?.record('', kind, this.#partitions.describe());
    const after = this.#reachabilityMatrix(nodes);
    const healed: [PeerId, PeerId][] = [];
    const cut: [PeerId, PeerId][] = [];
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) {
        const k = i * nodes.length + j;
        if (before[k] === after[k]) continue;
        const pair: [PeerId, PeerId] = [nodes[i] as PeerId, nodes[j] as PeerId];
        (after[k] === 1 ? healed : cut).push(pair);
      }
    }
    const reconcile = (pairs: [PeerId, PeerId][]) => () => {
      for (const [a, b] of pairs) {
        this.#reconcilePair(a, b);
        this.#reconcilePair(b, a);
      }
    };
    if (healed.length > 0) this.#clock.setTimer(this.#connectDelayMs, reconcile(healed));
    if (cut.length > 0) this.#clock.setTimer(this.#failureDetectionMs, reconcile(cut));
  }

  /** Upper-triangle matrix (row-major, n×n): 1 where nodes i < j are mutually open. */
  #reachabilityMatrix(nodes: readonly PeerId[]): Uint8Array {
    const n = nodes.length;
    const out = new Uint8Array(n * n);
    if (this.#partitions.isWhole()) {
      out.fill(1);
      return out;
    }
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const a = nodes[i] as PeerId;
        const b = nodes[j] as PeerId;
        out[i * n + j] = this.#partitions.isOpen(a, b) && this.#partitions.isOpen(b, a) ? 1 : 0;
      }
    }
    return out;
  }

  // ---- topics ------------------------------------------------------------------------------

  #addSubscriber(topic: string, id: PeerId): void {
    let entry = this.#subscribers.get(topic);
    if (entry === undefined) {
      entry = { set: new Set(), sorted: undefined };
      this.#subscribers.set(topic, entry);
    }
    if (entry.set.has(id)) return;
    entry.set.add(id);
    entry.sorted = undefined;
  }

  #removeSubscriber(topic: string, id: PeerId): void {
    const entry = this.#subscribers.get(topic);
    if (entry?.set.delete(id) === true) entry.sorted = undefined;
  }

  #subscribersOf(topic: string): readonly PeerId[] {
    const entry = this.#subscribers.get(topic);
    if (entry === undefined) return [];
    entry.sorted ??= [...entry.set].sort();
    return entry.sorted;
  }

  // ---- traffic -----------------------------------------------------------------------------

  #publish(from: Host, topic: string, data: Uint8Array): void {
    const id = this.#nextMessageId++;
    from.stats.messagesOut++;
    from.stats.bytesOut += data.byteLength;
    const recipients = this.#subscribersOf(topic).filter((r) => r !== from.id);
    this.#trace?.record(from.id, 'msg:publish', { bytes: data.byteLength, id, to: recipients.length, topic });
    const wire = data.byteLength + byteLength(topic) + this.#overheadBytes;
    // One arrival function per broadcast, not per copy: a thousand receivers each get one.
    const delivered = new Set<PeerId>(); // receivers a copy reached, so a duplicate is recognised
    const arrive = (receiver: Host): void => {
      if (receiver.mesh?.isSubscribed(topic) !== true) return this.#drop(receiver.id, from.id, 'msg', id, 'unsubscribed');
      if (this.#dedup && delivered.has(receiver.id)) return this.#drop(receiver.id, from.id, 'msg', id, 'duplicate');
      delivered.add(receiver.id);
      receiver.stats.messagesIn++;
      receiver.stats.bytesIn += data.byteLength;
      this.#trace?.record(receiver.id, 'msg:deliver', { from: from.id, id, topic });
      // One payload for every receiver (SimMesh copied it from the publisher once): nothing a
      // receiver does modifies received bytes, and a copy each — a 13 KB role change to a
      // thousand nodes — was most of the wall time of a large fleet recording its roles.
      receiver.inbox?.message(topic, from.id, data);
    };
    const relay = this.#relayPaths > 0 ? (to: PeerId): void => this.#relay(from, to, recipients, topic, id, wire, arrive) : undefined;
    for (const to of recipients) this.#transmit(from, to, 'msg', id, wire, true, arrive, relay);
  }

  /**
   * The mesh's forwarding of a copy `from` → `to` that was lost: up to `relayPaths` other
   * subscribers, drawn from the publisher's stream, each forward it (two hops; each relay
   * forwards only what reached it, and only while subscribed).
   */
  #relay(from: Host, to: PeerId, recipients: readonly PeerId[], topic: string, id: number, wire: number, arrive: (receiver: Host) => void): void {
    if (recipients.length < 2) return;
    const random = (from.random ??= this.#random.fork(`sender:${from.id}`));
    for (let path = 0; path < this.#relayPaths; path++) {
      let relayId = recipients[Math.floor(random.float() * (recipients.length - 1))] as PeerId;
      if (relayId === to) relayId = recipients[recipients.length - 1] as PeerId;
      this.#transmit(from, relayId, 'msg', id, wire, false, (relay) => {
        if (relay.mesh?.isSubscribed(topic) !== true) return this.#drop(relay.id, from.id, 'msg', id, 'unsubscribed');
        this.#trace?.record(relay.id, 'msg:relay', { from: from.id, id, to });
        this.#transmit(relay, to, 'msg', id, wire, false, arrive);
      });
    }
  }

  #sendRequest(from: Host, to: PeerId, protocol: string, data: Uint8Array, id: number): void {
    from.stats.requestsOut++;
    from.stats.requestBytesOut += data.byteLength;
    this.#trace?.record(from.id, 'req:send', { bytes: data.byteLength, id, protocol, to });
    const wire = data.byteLength + byteLength(protocol) + this.#overheadBytes;
    this.#transmit(from, to, 'req', id, wire, false, (receiver) => {
      receiver.stats.requestsIn++;
      receiver.stats.requestBytesIn += data.byteLength;
      this.#trace?.record(receiver.id, 'req:deliver', { from: from.id, id, protocol });
      const request: InboundRequest = { id, from: from.id, protocol, data };
      receiver.inbox?.request(request);
    });
  }

  #sendResponse(from: Host, to: PeerId, id: number, outcome: RequestOutcome): void {
    const size = outcome.ok ? outcome.data.byteLength : byteLength(outcome.reason);
    from.stats.requestBytesOut += size;
    this.#trace?.record(from.id, 'res:send', { bytes: size, id, ok: outcome.ok, to });
    this.#transmit(from, to, 'res', id, size + this.#overheadBytes, false, (receiver) => {
      receiver.stats.requestBytesIn += size;
      receiver.inbox?.response(id, outcome);
    });
  }

  /**
   * Puts one message on the link `from → to` and schedules its arrival. Always draws five
   * numbers from the sender's stream, in the same order, whatever the outcome — so changing a
   * loss rate changes which copies are lost but not the latency of the others. `onLoss` runs
   * when the (first) copy is lost to the link's loss rate (a broadcast's relays).
   */
  #transmit(from: Host, toId: PeerId, kind: CopyKind, id: number, wireBytes: number, mayDuplicate: boolean, arrive: (receiver: Host) => void, onLoss?: (to: PeerId) => void): void {
    const to = this.#hosts.get(toId);
    from.stats.wireMessagesOut++;
    from.stats.wireBytesOut += wireBytes;
    from.random ??= this.#random.fork(`sender:${from.id}`);
    const random = from.random;
    const lossDraw = random.float();
    const delayDraw = random.float();
    const duplicateDraw = random.float();
    const duplicateLossDraw = random.float();
    const duplicateDelayDraw = random.float();
    if (to === undefined || !to.started) return this.#drop(toId, from.id, kind, id, 'down');
    if (!this.#partitions.isOpen(from.id, toId)) return this.#drop(toId, from.id, kind, id, 'partition');
    const link = this.links.profile(from.id, toId);
    const epoch = to.epoch;
    const send = (lost: boolean, delayFraction: number, onLost?: (to: PeerId) => void): void => {
      if (lost) {
        this.#drop(toId, from.id, kind, id, 'loss');
        return onLost?.(toId);
      }
      const delay = microseconds(link.latencyMs + delayFraction * link.jitterMs);
      this.#clock.setTimer(delay, () => {
        if (!to.started || to.epoch !== epoch) return this.#drop(toId, from.id, kind, id, 'down');
        if (!this.#partitions.isOpen(from.id, toId)) return this.#drop(toId, from.id, kind, id, 'partition');
        to.stats.wireMessagesIn++;
        to.stats.wireBytesIn += wireBytes;
        arrive(to);
      });
    };
    send(lossDraw < link.loss, delayDraw, onLoss);
    if (mayDuplicate && duplicateDraw < link.duplicate) send(duplicateLossDraw < link.loss, duplicateDelayDraw);
  }

  #drop(at: PeerId, from: PeerId, kind: CopyKind, id: number, reason: NetworkDropReason): void {
    this.#dropped[reason]++;
    const details: TraceDetails = { from, id, kind, reason };
    this.#trace?.record(at, 'net:drop', details);
  }
}

/** Rounds a delay to whole microseconds, so traces print short, exact times. */
function microseconds(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

const encoder = new TextEncoder();
function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}

function insertSorted(list: PeerId[], id: PeerId): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as PeerId) < id) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] !== id) list.splice(lo, 0, id);
}

function removeSorted(list: PeerId[], id: PeerId): void {
  const index = list.indexOf(id);
  if (index >= 0) list.splice(index, 1);
}
