import type { Mesh, PeerId } from '../mesh/mesh.js';
import { sleepOn, type Clock, type Timer } from '../seams/clock.js';
import { pick, shuffled, type Random } from '../seams/random.js';
import { Awareness } from './awareness.js';
import { BroadcastQueue } from './broadcast-queue.js';
import { validateMembershipConfig, type MembershipConfig } from './config.js';
import { DEFAULT_MEMBERSHIP } from './profiles.js';
import { requestWithin } from './deadline.js';
import { SwimMessageRejectedError } from './errors.js';
import { Emitter, type MembershipEventName, type MembershipListener, type MembershipLogger } from './events.js';
import { ProbeOrder } from './probe-order.js';
import { copyStats, emptyStats, type MembershipStats } from './stats.js';
import { supersedes, type MemberStatus } from './status.js';
import { Suspicion } from './suspicion.js';
import { retransmitLimit, suspicionBounds } from './timing.js';
import { decodeMessage, encodeMessage, swimProtocol, SWIM_WIRE_VERSION, type DropReason, type SwimMessage, type SwimRequest, type SwimResponse, type WireUpdate } from './wire.js';
import { linkedSignal } from '../util/linked-signal.js';

/** What a {@link FailureDetector} is built from. Only entry points construct the seams. */
export interface FailureDetectorInit {
  /** This node's id; member ids are mesh peer ids. */
  self: PeerId;
  /** Cluster name; the protocol is `/pace/<cluster>/swim/1`. */
  cluster: string;
  mesh: Mesh;
  clock: Clock;
  /** Fork one per node (e.g. `random.fork('swim')`); it decides probe order and helpers. */
  random: Random;
  /** @default DEFAULT_MEMBERSHIP (the `lan` profile's, profiles.ts) */
  config?: MembershipConfig;
  logger?: MembershipLogger;
  /**
   * This node's incarnation to start from. A restarted node passes the one the cluster
   * document holds for it (raised above any verdict about it), so verdicts written by every
   * detector share one numbering. @default 0
   */
  incarnation?: number;
  /**
   * A short digest of this node's replicated state (lowercase hex), sent on pings and acks.
   * The answer to a direct probe that carries one is emitted as a `state` event, so the node
   * learns within a probe interval that a peer's document differs from its own — what lost
   * gossip looks like — and can sync with that peer at once. Unset: no digest is sent.
   */
  stateDigest?: () => string;
}

/** One member as this node sees it. */
export interface MemberView {
  readonly node: PeerId;
  readonly status: MemberStatus;
  readonly incarnation: number;
}

interface MemberRecord {
  status: MemberStatus;
  incarnation: number;
  /** Who made the claim behind `status` (the node itself for alive/left). */
  by: string;
}

type RequestBody = { type: 'ping' } | { type: 'ping-req'; target: string; timeoutMs: number };

/** Share of a ping-req's wait the helper may spend pinging, so its nack arrives in time. */
const HELPER_TIMEOUT_SHARE = 0.8;

/**
 * SWIM failure detector with Lifeguard's refinements (docs/MEMBERSHIP.md).
 *
 * Each probe interval the node pings one member (randomized round-robin), asks
 * `indirectChecks` others to ping it when the direct ack is missing, and suspects it when
 * nobody gets an ack. A suspicion expires into a `down` verdict after a timeout that grows with
 * log N and shrinks with independent confirmations, unless the member refutes it by bumping its
 * incarnation. Membership updates travel only piggybacked on probe traffic, from a
 * transmit-limited queue, so a node's steady-state traffic does not grow with N.
 *
 * The member list comes from the cluster document via {@link setMembers}; the detector never
 * discovers members. Verdicts it emits are for the daemon to write into the document.
 *
 * Concurrency contract: every method must be called on the event loop (single-threaded
 * JavaScript); none blocks. Events are emitted synchronously from inside Clock timer callbacks
 * or mesh request handling, one at a time; listeners may call any method, and one that throws
 * is logged and does not affect the detector or other listeners. Mesh request handlers may run
 * concurrently with a probe; all state changes happen between awaits, so they never interleave.
 */
export class FailureDetector {
  readonly self: PeerId;
  readonly protocol: string;
  readonly config: Readonly<MembershipConfig>;
  readonly #mesh: Mesh;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #logger: MembershipLogger | undefined;
  readonly #stateDigest: (() => string) | undefined;
  readonly #members = new Map<PeerId, MemberRecord>();
  readonly #suspicions = new Map<PeerId, Suspicion>();
  readonly #queue = new BroadcastQueue();
  readonly #order: ProbeOrder;
  readonly #awareness: Awareness;
  readonly #stats = emptyStats();
  readonly #events: Emitter;
  #running = false;
  #leaving: Promise<void> | undefined;
  #probing = false;
  /** A round came due while the previous probe was still waiting; run it when that ends. */
  #roundDue = false;
  #probeTimer: Timer | undefined;
  #reconnectTimer: Timer | undefined;
  #lifetime = new AbortController();
  /**
   * Lists derived from member statuses (sorted ids per status set, the cluster size), built on
   * first use and dropped on any membership or status change: a probe, a piggyback and the
   * role loop all need them, and rebuilding them each time costs O(N log N) per message.
   */
  readonly #derived = new Map<string, readonly PeerId[]>();
  #derivedSize: number | undefined;

  constructor(init: FailureDetectorInit) {
    const config = { ...(init.config ?? DEFAULT_MEMBERSHIP) };
    validateMembershipConfig(config);
    this.config = Object.freeze(config);
    this.self = init.self;
    this.protocol = swimProtocol(init.cluster);
    this.#mesh = init.mesh;
    this.#clock = init.clock;
    this.#random = init.random;
    this.#logger = init.logger;
    this.#stateDigest = init.stateDigest;
    this.#order = new ProbeOrder(init.random.fork('probe-order'));
    this.#awareness = new Awareness(config.awarenessMaxMultiplier);
    this.#events = new Emitter((event, err) => this.#logger?.warn({ event, err }, 'membership listener threw'));
    this.#members.set(this.self, { status: 'alive', incarnation: init.incarnation ?? 0, by: this.self });
  }

  /** Registers the protocol handler and starts probing. Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#lifetime = new AbortController();
    // The handler's signal is read only for a ping-req (the mesh may make it on first read).
    this.#mesh.handle(this.protocol, (data, from, options) => this.#handle(data, from, options));
    // Suspicions held across a stop() start over, so they still end in a verdict or a refutation.
    for (const [node, rec] of this.#members) {
      if (rec.status === 'suspect' && node !== this.self) this.#startSuspicion({ node, status: 'suspect', incarnation: rec.incarnation, from: rec.by });
    }
    if (this.#leaving === undefined) {
      // A random first offset keeps a fleet started together from probing in lockstep.
      this.#scheduleProbe(this.#random.int(this.config.probeIntervalMs) + 1);
      this.#scheduleReconnect();
    }
  }

  /** Stops probing, cancels timers and in-flight requests, unregisters the handler. Idempotent. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#roundDue = false;
    this.#probeTimer?.cancel();
    this.#reconnectTimer?.cancel();
    this.#probeTimer = undefined;
    this.#reconnectTimer = undefined;
    for (const suspicion of this.#suspicions.values()) suspicion.cancel();
    this.#suspicions.clear();
    this.#lifetime.abort(new Error('membership detector stopped'));
    this.#mesh.unhandle(this.protocol);
  }

  /**
   * Sets the member list (from the cluster document). New members start `alive` at
   * incarnation 0; members no longer listed are forgotten. `self` is always kept.
   */
  setMembers(ids: Iterable<PeerId>): void {
    const wanted = new Set(ids);
    wanted.add(this.self);
    for (const id of [...this.#members.keys()]) {
      if (wanted.has(id)) continue;
      this.#members.delete(id);
      this.#suspicions.get(id)?.cancel();
      this.#suspicions.delete(id);
      this.#queue.remove(id);
    }
    for (const id of [...wanted].sort()) {
      if (!this.#members.has(id)) this.#members.set(id, { status: 'alive', incarnation: 0, by: id });
    }
    this.#statusesChanged();
  }

  /**
   * The cluster document holds `id`'s own member record at `incarnation`: the member's word
   * that it was alive then, taken as an alive message from it would be — a suspect or down claim
   * at a lower incarnation gives way and the member is probed again. Without it, a member whose
   * refutation reached this node only through the document (every SWIM message carrying it lost)
   * stayed down here while the document said alive, and when it then really failed no verdict
   * could be written about it: the document had outranked the only one this node would give.
   */
  recordedAlive(id: PeerId, incarnation: number): void {
    const rec = this.#members.get(id);
    if (rec === undefined || incarnation <= rec.incarnation) return;
    this.#apply({ node: id, status: 'alive', incarnation, from: id });
  }

  /**
   * Announces a graceful leave: marks self `left`, stops probing, and pushes the claim to a few
   * members directly (more follow by piggyback). Resolves when those pushes are answered or
   * timed out; never rejects. Keeps answering probes until {@link stop}. Idempotent.
   */
  leave(): Promise<void> {
    if (this.#leaving !== undefined) return this.#leaving;
    const me = this.#record(this.self);
    this.#set(this.self, me, { status: 'left', incarnation: me.incarnation, by: this.self });
    this.#queue.enqueue({ node: this.self, status: 'left', incarnation: me.incarnation, from: this.self });
    this.#probeTimer?.cancel();
    this.#reconnectTimer?.cancel();
    this.#leaving = this.#running ? this.#announceLeave() : Promise.resolve();
    return this.#leaving;
  }

  /** This node's view of `id`, or undefined when it is not a member. */
  status(id: PeerId): MemberView | undefined {
    const rec = this.#members.get(id);
    return rec === undefined ? undefined : { node: id, status: rec.status, incarnation: rec.incarnation };
  }

  /** Every member (self included), sorted by id. */
  view(): MemberView[] {
    return [...this.#members.keys()].sort().map((id) => this.status(id) as MemberView);
  }

  /**
   * Members this node can reach as far as failure detection knows (alive or suspect), self
   * included, sorted. The same array is returned until a status changes, so callers may cache
   * what they derive from it by identity. Do not modify it.
   */
  reachable(): readonly PeerId[] {
    return this.#cached('reachable', () => [...this.#members].filter(([, rec]) => rec.status === 'alive' || rec.status === 'suspect').map(([id]) => id).sort());
  }

  /** This node's current incarnation. */
  get incarnation(): number {
    return this.#record(this.self).incarnation;
  }

  /** Adds a listener; returns a function that removes it. */
  on<E extends MembershipEventName>(event: E, listener: MembershipListener<E>): () => void {
    return this.#events.on(event, listener);
  }

  /** A snapshot of the counters. */
  stats(): MembershipStats {
    return copyStats(this.#stats);
  }

  // ---- probing -------------------------------------------------------------------------

  #scheduleProbe(delayMs: number): void {
    this.#probeTimer = this.#clock.setTimer(delayMs, () => {
      this.#probeTimer = undefined;
      if (!this.#running || this.#leaving !== undefined) return;
      this.#scheduleProbe(this.#awareness.scale(this.config.probeIntervalMs));
      if (this.#probing) this.#roundDue = true;
      else void this.#probeOnce();
    });
  }

  #scheduleReconnect(): void {
    this.#reconnectTimer = this.#clock.setTimer(this.config.reconnectIntervalMs, () => {
      this.#reconnectTimer = undefined;
      if (!this.#running || this.#leaving !== undefined) return;
      this.#scheduleReconnect();
      const target = pick(this.#random, this.#idsWith('down'));
      // No accusation follows a failed reconnect ping; an answer carries the refutation.
      if (target !== undefined) void this.#send(target, { type: 'ping' }, this.config.probeTimeoutMs);
    });
  }

  async #probeOnce(): Promise<void> {
    const target = this.#order.next(this.#idsWith('alive', 'suspect'));
    if (target === undefined) return;
    this.#probing = true;
    const lifetime = this.#lifetime;
    // After an await: false when stopped (or stopped and restarted), or leaving, meanwhile.
    const current = (): boolean => this.#running && lifetime === this.#lifetime && this.#leaving === undefined;
    try {
      this.#stats.probes++;
      const claim = this.#record(target).incarnation;
      const timeoutMs = this.#awareness.scale(this.config.probeTimeoutMs);
      const direct = await this.#send(target, { type: 'ping' }, timeoutMs);
      if (direct?.type === 'ack') {
        this.#awareness.apply(-1);
        return;
      }
      if (!current()) return;
      this.#stats.indirectProbes++;
      const helpers = shuffled(this.#random, this.#idsWith('alive').filter((id) => id !== target)).slice(0, this.config.indirectChecks);
      const waitMs = this.#awareness.scale(this.config.probeIntervalMs - this.config.probeTimeoutMs);
      const helperTimeoutMs = Math.max(1, Math.floor(waitMs * HELPER_TIMEOUT_SHARE));
      const retries = this.config.indirectChecks - helpers.length;
      const probe = { acked: false };
      const noteAck = (answer: SwimResponse | undefined): SwimResponse | undefined => {
        if (answer?.type === 'ack') probe.acked = true;
        return answer;
      };
      const answers = await Promise.all([
        ...helpers.map((h) => this.#send(h, { type: 'ping-req', target, timeoutMs: helperTimeoutMs }, waitMs).then(noteAck)),
        ...Array.from({ length: retries }, (_, i) => this.#retryPing(target, Math.floor((i * waitMs) / (retries + 1)), waitMs, probe).then(noteAck)),
      ]);
      if (answers.some((a) => a?.type === 'ack')) return;
      // Lifeguard: helpers that did not even nack suggest the problem is on our side.
      const nacks = answers.filter((a) => a?.type === 'nack').length;
      if (!current()) return;
      this.#awareness.apply(helpers.length > 0 ? helpers.length - nacks : 1);
      const rec = this.#members.get(target);
      if (rec === undefined || rec.incarnation !== claim || (rec.status !== 'alive' && rec.status !== 'suspect')) return;
      if (rec.status === 'alive') this.#stats.suspicionsRaised++;
      this.#apply({ node: target, status: 'suspect', incarnation: claim, from: this.self });
    } finally {
      this.#probing = false;
      if (this.#roundDue) {
        this.#roundDue = false;
        if (this.#running && this.#leaving === undefined) void this.#probeOnce();
      }
    }
  }

  /**
   * One of a probe's direct retries, sent `offsetMs` into its indirect phase and answered by
   * `endMs`. A node with fewer other alive members than `indirectChecks` besides the target
   * (either of two survivors of a three-node site, say) has fewer helpers to ask, and one lost
   * ping or ack would otherwise make a suspicion: each missing helper becomes another try over
   * the direct link, the tries spread over the first half of the phase so one burst of loss does
   * not take them all (memberlist's fallback ping plays this part). Not sent once the probe has
   * an ack, or once the detector stopped or is leaving; the wait ends with the detector's
   * lifetime.
   */
  #retryPing(target: PeerId, offsetMs: number, endMs: number, probe: { readonly acked: boolean }): Promise<SwimResponse | undefined> {
    const lifetime = this.#lifetime;
    const send = (): Promise<SwimResponse | undefined> | undefined => {
      if (probe.acked || !this.#running || lifetime !== this.#lifetime || this.#leaving !== undefined) return undefined;
      this.#stats.directRetries++;
      return this.#send(target, { type: 'ping' }, endMs - offsetMs);
    };
    if (offsetMs <= 0) return Promise.resolve(send());
    return sleepOn(this.#clock, offsetMs, lifetime.signal).then(send, () => undefined);
  }

  async #announceLeave(): Promise<void> {
    const n = this.#clusterSize();
    const targets = shuffled(this.#random, this.#idsWith('alive', 'suspect')).slice(0, retransmitLimit(this.config, n));
    await Promise.all(targets.map((t) => this.#send(t, { type: 'ping' }, this.config.probeTimeoutMs)));
  }

  // ---- messages ------------------------------------------------------------------------

  /**
   * Sends a request to `peer` and absorbs the response; undefined when no usable answer came
   * within `timeoutMs`, or `signal` (default: the detector's lifetime) aborted first.
   */
  async #send(peer: PeerId, body: RequestBody, timeoutMs: number, signal: AbortSignal = this.#lifetime.signal): Promise<SwimResponse | undefined> {
    const lifetime = this.#lifetime;
    const message: SwimRequest = { v: SWIM_WIRE_VERSION, inc: this.incarnation, updates: this.#piggyback(peer), ...body, ...(body.type === 'ping' ? this.#state() : {}) };
    const data = encodeMessage(message);
    this.#stats.messagesSent++;
    this.#stats.bytesSent += data.length;
    const reply = await requestWithin(this.#mesh, this.#clock, peer, this.protocol, data, timeoutMs, signal);
    if (reply === undefined || !this.#running || lifetime !== this.#lifetime) return undefined;
    this.#stats.messagesReceived++;
    this.#stats.bytesReceived += reply.length;
    const decoded = this.#decode(reply, peer);
    if (decoded === undefined) return undefined;
    if (decoded.type !== 'ack' && decoded.type !== 'nack') {
      this.#drop('unexpected-type', peer, `${decoded.type} as a response`);
      return undefined;
    }
    this.#absorb(peer, decoded);
    if (body.type === 'ping' && decoded.type === 'ack' && decoded.state !== undefined) this.#events.emit('state', { node: peer, digest: decoded.state });
    return decoded;
  }

  /** The `state` field for an outgoing ping or ack (empty without a stateDigest). */
  #state(): { state?: string } {
    return this.#stateDigest === undefined ? {} : { state: this.#stateDigest() };
  }

  /** Answers one inbound request; rejects (after counting the drop) when it is unusable. */
  async #handle(data: Uint8Array, from: PeerId, options: { readonly signal: AbortSignal }): Promise<Uint8Array> {
    this.#stats.messagesReceived++;
    this.#stats.bytesReceived += data.length;
    const result = decodeMessage(data, this.config.maxMessageBytes);
    if (!result.ok) {
      this.#drop(result.reason, from, result.detail);
      throw new SwimMessageRejectedError(result.reason, result.detail);
    }
    const message = result.message;
    if (message.type !== 'ping' && message.type !== 'ping-req') {
      this.#drop('unexpected-type', from, `${message.type} as a request`);
      throw new SwimMessageRejectedError('unexpected-type', `${message.type} is not a request`);
    }
    this.#absorb(from, message);
    let type: SwimResponse['type'] = 'ack';
    if (message.type === 'ping-req' && message.target !== this.self) {
      const timeoutMs = Math.min(message.timeoutMs, this.config.probeIntervalMs);
      // Not AbortSignal.any: with the lifetime signal as a source it leaks (util/linked-signal.ts).
      const linked = linkedSignal([options.signal, this.#lifetime.signal]);
      try {
        const answer = await this.#send(message.target, { type: 'ping' }, timeoutMs, linked.signal);
        type = answer?.type === 'ack' ? 'ack' : 'nack';
      } finally {
        linked.dispose();
      }
    }
    const response: SwimResponse = { v: SWIM_WIRE_VERSION, type, inc: this.incarnation, updates: this.#piggyback(from), ...(type === 'ack' && message.type === 'ping' ? this.#state() : {}) };
    const bytes = encodeMessage(response);
    this.#stats.messagesSent++;
    this.#stats.bytesSent += bytes.length;
    return bytes;
  }

  #decode(data: Uint8Array, peer: PeerId): SwimMessage | undefined {
    const result = decodeMessage(data, this.config.maxMessageBytes);
    if (result.ok) return result.message;
    this.#drop(result.reason, peer, result.detail);
    return undefined;
  }

  #drop(reason: DropReason, peer: PeerId, detail: string): void {
    this.#stats.drops[reason]++;
    this.#logger?.debug({ peer, reason, detail }, 'swim message dropped');
  }

  /** Applies what a message from `peer` tells us: its own incarnation, then its updates. */
  #absorb(peer: PeerId, message: SwimMessage): void {
    const rec = this.#members.get(peer);
    if (peer !== this.self && rec !== undefined && message.inc > rec.incarnation) {
      // The sender's own word that it is alive at a newer incarnation.
      this.#apply({ node: peer, status: 'alive', incarnation: message.inc, from: peer });
    }
    for (const update of message.updates) this.#apply(update);
  }

  /**
   * Updates for a message to `peer`: first, if we hold it suspect, down or left, that claim
   * (so a wrongly accused or restarted node can refute at once); then the least-sent queued updates, within the budget.
   */
  #piggyback(peer: PeerId): WireUpdate[] {
    const out: WireUpdate[] = [];
    const rec = this.#members.get(peer);
    if (rec !== undefined && peer !== this.self && rec.status !== 'alive') {
      out.push({ node: peer, status: rec.status, incarnation: rec.incarnation, from: rec.by });
    }
    const limit = retransmitLimit(this.config, this.#clusterSize());
    const queued = this.#queue.take(this.config.maxPiggybackBytes, limit, new Set(out.map((u) => u.node)));
    return out.concat(queued);
  }

  // ---- state ---------------------------------------------------------------------------

  /** Applies one claim under the precedence rule (status.ts); re-gossips what changed. */
  #apply(update: WireUpdate): void {
    if (update.node === this.self) {
      this.#aboutSelf(update);
      return;
    }
    const rec = this.#members.get(update.node);
    if (rec === undefined) {
      this.#stats.unknownMemberUpdates++;
      return;
    }
    if (!supersedes(update, rec)) {
      // Lifeguard: an independent suspicion of the same incarnation shortens the timer.
      if (update.status === 'suspect' && rec.status === 'suspect' && update.incarnation === rec.incarnation) {
        if (this.#suspicions.get(update.node)?.confirm(update.from) === true) this.#queue.enqueue(update);
      }
      return;
    }
    this.#suspicions.get(update.node)?.cancel();
    this.#suspicions.delete(update.node);
    this.#set(update.node, rec, { status: update.status, incarnation: update.incarnation, by: update.from });
    this.#queue.enqueue(update);
    if (update.status === 'suspect' && this.#running) this.#startSuspicion(update);
    if (update.status === 'down') {
      this.#events.emit('verdict', { node: update.node, status: 'down', incarnation: update.incarnation, by: update.from, at: this.#clock.now() });
    }
  }

  /** A claim about this node: adopt a newer alive incarnation, refute any accusation. */
  #aboutSelf(update: WireUpdate): void {
    const me = this.#record(this.self);
    if (this.#leaving !== undefined) return;
    if (update.status === 'alive') {
      if (update.incarnation > me.incarnation) me.incarnation = update.incarnation;
      return;
    }
    if (update.incarnation < me.incarnation) return; // already refuted
    const incarnation = update.incarnation + 1;
    this.#set(this.self, me, { status: 'alive', incarnation, by: this.self });
    this.#queue.enqueue({ node: this.self, status: 'alive', incarnation, from: this.self });
    this.#stats.refutations++;
    // Lifeguard: being suspected hints that we were too slow to answer.
    this.#awareness.apply(1);
    this.#logger?.info({ refuted: update.status, by: update.from, incarnation }, 'refuting a claim about self');
    this.#events.emit('verdict', { node: this.self, status: 'alive', incarnation, by: this.self, refuted: update.status, at: this.#clock.now() });
    // The accuser's suspicion runs out unless the refutation reaches it; piggybacked, it would wait
    // for the next probe either way (seconds apart once awareness has slowed probing on a lossy
    // link), so it also goes to the accuser at once: the ping carries the new incarnation.
    const accuser = this.#members.get(update.from);
    if (this.#running && update.from !== this.self && (accuser?.status === 'alive' || accuser?.status === 'suspect')) {
      void this.#send(update.from, { type: 'ping' }, this.config.probeTimeoutMs);
    }
  }

  #startSuspicion(update: WireUpdate): void {
    const bounds = suspicionBounds(this.config, this.#clusterSize());
    const { node, incarnation } = update;
    const suspicion = new Suspicion(incarnation, update.from, bounds, this.#clock, () => {
      if (this.#suspicions.get(node) !== suspicion) return;
      this.#suspicions.delete(node);
      const rec = this.#members.get(node);
      if (rec?.status !== 'suspect' || rec.incarnation !== incarnation) return;
      this.#logger?.info({ node, incarnation, suspectedFor: this.#clock.now() - suspicion.startedAt }, 'member declared down');
      this.#apply({ node, status: 'down', incarnation, from: this.self });
    });
    this.#suspicions.set(node, suspicion);
  }

  #set(node: PeerId, rec: MemberRecord, next: MemberRecord): void {
    const previous = rec.status;
    const changed = previous !== next.status || rec.incarnation !== next.incarnation;
    if (previous !== next.status) this.#statusesChanged();
    rec.status = next.status;
    rec.incarnation = next.incarnation;
    rec.by = next.by;
    if (changed) this.#events.emit('change', { node, previous, status: next.status, incarnation: next.incarnation, at: this.#clock.now() });
  }

  #record(id: PeerId): MemberRecord {
    const rec = this.#members.get(id);
    if (rec === undefined) throw new Error(`invariant: no record for ${id}`);
    return rec;
  }

  /** Other members with one of `statuses`, sorted (so draws depend only on the seed). Do not modify it. */
  #idsWith(...statuses: MemberStatus[]): readonly PeerId[] {
    return this.#cached(statuses.join(','), () => {
      const out: PeerId[] = [];
      for (const [id, rec] of this.#members) if (id !== this.self && statuses.includes(rec.status)) out.push(id);
      return out.sort();
    });
  }

  /** N in the formulas: members not known to have left, self included. */
  #clusterSize(): number {
    if (this.#derivedSize === undefined) {
      let n = 0;
      for (const rec of this.#members.values()) if (rec.status !== 'left') n++;
      this.#derivedSize = n;
    }
    return this.#derivedSize;
  }

  #cached(key: string, build: () => PeerId[]): readonly PeerId[] {
    let list = this.#derived.get(key);
    if (list === undefined) {
      list = Object.freeze(build());
      this.#derived.set(key, list);
    }
    return list;
  }

  /** A member was added or removed, or a status changed: derived lists are stale. */
  #statusesChanged(): void {
    this.#derived.clear();
    this.#derivedSize = undefined;
  }
}
