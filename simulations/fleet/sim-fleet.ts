/**
 * A fleet of whole PACE nodes — the same `createNode()` the daemon runs — on one simulated
 * world: per node a SimMesh, a NodeClock, MemoryStorage, a seeded random stream (a new fork per
 * start, so a restart never replays its actor ids), a FakeDriver, and the simulation operator
 * key as the trusted key. Nodes holding the same document content share one Automerge handle,
 * copy-on-write (harness/shared-doc-states.ts; what keeps a 1,000-node fleet within Automerge's
 * 4 GiB wasm memory). Faults are operations on the fleet: crash, restart (with or without
 * the data dir), partition, one-way blocks, heal, link changes; policies are pushed into one
 * node as an operator would with `pace policy apply`.
 *
 * Nothing here decides anything at random by itself: every draw comes from forks of the world's
 * seed, every time from the scheduler. Checkers (simulations/checkers/) read what this exposes:
 * each node's document, role records, driver actions and role changes, and the trace.
 */
import { createNode, type PaceNode } from '../../src/node/create-node.js';
import { membershipFor, type MembershipSettings } from '../../src/membership/profiles.js';
import type { PeerId } from '../../src/mesh/mesh.js';
import type { Role } from '../../src/policy/types.js';
import type { ReconcileInput, Decision } from '../../src/roles/reconciler.js';
import { decide } from '../../src/roles/reconciler.js';
import type { RoleControllerConfig } from '../../src/roles/role-controller.js';
import type { ReplicatorInit } from '../../src/state/replicator.js';
import { MemoryStorage } from '../../src/seams/memory-storage.js';
import { reserveWasmMemory } from '../../src/state/automerge-backend.js';
import type { Seed } from '../../src/seams/seeded-random.js';
import type { OperatorPrivateKey } from '../../src/signing/operator-key.js';
import { signPolicy, type ChooseResult } from '../../src/signing/signed-policy.js';
import { DRIVER_NAMES } from '../../src/policy/types.js';
import type { DriverRegistry } from '../../src/roles/driver.js';
import type { Facts } from '../../src/state/schema.js';
import { FakeControlPlane } from '../harness/fake-control-plane.js';
import { SharedDocStates } from '../harness/shared-doc-states.js';
import { brokenSoftware, FakeDriver, type DriverCall, type DriverCallKind, type FakeDriverDisk } from '../harness/fake-driver.js';
import type { LinkProfile } from '../harness/links.js';
import type { NodeClock } from '../harness/node-clock.js';
import { createSimWorld, type SimWorld, type SimWorldInit } from '../harness/world.js';
import { simOperatorKey } from './operator-key.js';
import { nodeLogger, type NodeLogSink } from './node-logs.js';

/** What the scenario says about one node. */
export interface SimNodeSpec {
  id: PeerId;
  facts: Facts;
  labels: Record<string, string>;
}

/**
 * TEST ONLY hooks that break the node on purpose, to prove a checker notices. Never set in a
 * shipped scenario; `pace sim run` reaches `disableQuorumGate` only through a hidden flag
 * (`--test-only-disable-quorum-gate`) so that a printed replay command reproduces such a run.
 */
export interface UnsafeTestHooks {
  /** Every node's reconciler believes it reaches every control-plane member: no quorum gate. */
  disableQuorumGate?: boolean;
}

export interface SimFleetInit {
  seed: Seed;
  nodes: readonly SimNodeSpec[];
  /** @default 'sim' */
  cluster?: string;
  /**
   * Failure-detector timings and the anti-entropy interval, as `membershipFor(profile, overrides)`
   * gives them. @default membershipFor(): the daemon's default profile, `lan`
   */
  membership?: MembershipSettings;
  /** Network settings (links, detection delays). */
  network?: SimWorldInit['network'];
  /** @default 10_000 (keep the trace's memory bounded at scale) */
  traceRetain?: number;
  /** Replication tuning besides the sync interval (which `membership` sets). @default the daemon's (ReplicatorInit defaults) */
  replication?: Omit<ReplicatorInit, 'syncIntervalMs'>;
  /** Role loop tuning. @default { tickMs: 1_000, retryMs: 2_000 } */
  roles?: Partial<RoleControllerConfig>;
  /** Virtual time each driver call takes. @default 20 */
  driverDurationMs?: number;
  /**
   * Share identical document states between nodes, copy-on-write (harness/shared-doc-states.ts).
   * Off: every node keeps its own copy, as separate daemons do. @default true
   */
  shareDocumentStates?: boolean;
  unsafeTestHooks?: UnsafeTestHooks;
  /** Where chosen nodes' log lines go (`pace sim run --logs`). @default every node silent */
  logs?: NodeLogSink;
}

/** One role change a node reported (its RoleController's `onRoleChange`). */
export interface RoleChange {
  time: number;
  node: PeerId;
  from: Role | null;
  to: Role;
}

/** A driver call as it starts, with the control plane the caller acted on. */
export interface DriverCallEvent {
  time: number;
  node: PeerId;
  call: DriverCall;
  members: readonly string[] | undefined;
}

/** A node as the fleet tracks it across its incarnations. */
export interface SimFleetNode {
  readonly id: PeerId;
  readonly spec: SimNodeSpec;
  /** Starts so far (1 after the first boot). */
  starts: number;
  /** `up` once start() resolved; `starting` in between; `down` before the first start and after a crash. */
  status: 'down' | 'starting' | 'up';
  /** The running node (undefined while down). */
  node: PaceNode | undefined;
  /** The running incarnation's driver (undefined before the first start). */
  driver: FakeDriver | undefined;
  /** Every incarnation's driver, oldest first. */
  readonly drivers: FakeDriver[];
  clock: NodeClock | undefined;
  storage: MemoryStorage;
  /** What its fake driver keeps on the node's disk: lost with the storage when the disk is wiped. */
  driverDisk: FakeDriverDisk;
  /** When the node last crashed, or undefined. */
  crashedAt: number | undefined;
  /** Driver calls that fail on this machine, whatever incarnation runs (breakDriver), or undefined. */
  brokenDriver: { kinds: readonly DriverCallKind[]; reason: string } | undefined;
}

/** A failure of the harness or of a node outside any checker (a start that threw). */
export interface FleetError {
  time: number;
  node: PeerId;
  message: string;
}

export const DEFAULT_SIM_CLUSTER = 'sim';

/** Every driver name a policy may give is played by the node's one fake driver. */
function everyDriver(driver: FakeDriver): DriverRegistry {
  return Object.fromEntries(DRIVER_NAMES.map((name) => [name, () => driver]));
}

/** The quorum-gate-free decide of {@link UnsafeTestHooks.disableQuorumGate}. */
function decideWithoutQuorumGate(input: ReconcileInput): Decision {
  return decide({ ...input, reachable: new Set([...input.reachable, ...input.controlPlane]) });
}

/**
 * Automerge wasm memory grown up front per simulated node (capped at 3.5 GiB): a fleet's
 * documents then never wait for the memory to grow page by page (reserveWasmMemory). 4 MiB per
 * node covers a 1,000-node fleet's peak; pages the fleet never writes cost nothing.
 */
const WASM_RESERVATION_PER_NODE = 4 * 2 ** 20;

/**
 * Concurrency contract: single-threaded; call operations from test code between scheduler runs
 * or from scheduler events (fault schedules are timers). Starting a node is asynchronous but
 * completes within the event that started it (MemoryStorage and SimMesh settle in microtasks).
 */
export class SimFleet {
  readonly world: SimWorld;
  readonly operator: OperatorPrivateKey;
  readonly cluster: string;
  readonly membership: MembershipSettings;
  readonly #nodes = new Map<PeerId, SimFleetNode>();
  readonly #init: SimFleetInit;
  readonly roleChanges: RoleChange[] = [];
  readonly errors: FleetError[] = [];
  readonly #driverCallListeners = new Set<(event: DriverCallEvent) => void>();
  /** The control-plane software's own clusters and member lists, which the fake drivers change. */
  readonly controlPlane = new FakeControlPlane();
  /** Every node's document handle, shared copy-on-write by content; undefined when switched off. */
  readonly sharedStates: SharedDocStates | undefined;

  constructor(init: SimFleetInit) {
    this.#init = init;
    this.world = createSimWorld({ seed: init.seed, traceRetain: init.traceRetain ?? 10_000, ...(init.network === undefined ? {} : { network: init.network }) });
    this.operator = simOperatorKey(init.seed);
    this.cluster = init.cluster ?? DEFAULT_SIM_CLUSTER;
    this.membership = init.membership ?? membershipFor();
    this.sharedStates = init.shareDocumentStates === false ? undefined : new SharedDocStates();
    reserveWasmMemory(init.nodes.length * WASM_RESERVATION_PER_NODE);
    for (const spec of init.nodes) {
      if (this.#nodes.has(spec.id)) throw new Error(`duplicate node id ${spec.id}`);
      this.#nodes.set(spec.id, { id: spec.id, spec, starts: 0, status: 'down', node: undefined, driver: undefined, drivers: [], clock: undefined, storage: new MemoryStorage(), driverDisk: { memberData: false }, crashedAt: undefined, brokenDriver: undefined });
    }
  }

  get now(): number {
    return this.world.scheduler.now();
  }

  /** Called when any node's driver call starts (checkers judge control-plane changes here). */
  onDriverCall(listener: (event: DriverCallEvent) => void): () => void {
    this.#driverCallListeners.add(listener);
    return () => this.#driverCallListeners.delete(listener);
  }

  /** Every node, sorted by id. */
  nodes(): SimFleetNode[] {
    return [...this.#nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Nodes whose current incarnation finished starting. */
  liveNodes(): SimFleetNode[] {
    return this.nodes().filter((n) => n.status === 'up');
  }

  get(id: PeerId): SimFleetNode {
    const n = this.#nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id} in the fleet`);
    return n;
  }

  /** Boots node `id` (a first start, or a restart after a crash). Resolves once it is up. */
  async start(id: PeerId): Promise<void> {
    const entry = this.get(id);
    if (entry.status !== 'down') throw new Error(`node ${id} is already ${entry.status}`);
    entry.status = 'starting';
    const incarnation = entry.starts++;
    const clock = this.world.nodeClock();
    const mesh = this.world.network.createMesh(id, { clock });
    const driver = new FakeDriver({
      clock,
      node: id,
      disk: entry.driverDisk,
      serving: (members) => members.filter((m) => this.#serves(m)).length,
      software: { controlPlane: this.controlPlane, diskOf: (m) => this.#nodes.get(m)?.driverDisk },
      trace: this.world.trace,
      durationMs: this.#init.driverDurationMs ?? 20,
      onCall: (call, members) => {
        for (const l of this.#driverCallListeners) l({ time: this.now, node: id, call, members });
      },
    });
    if (entry.brokenDriver !== undefined) driver.failWhen(brokenSoftware(entry.brokenDriver.kinds, entry.brokenDriver.reason));
    entry.clock = clock;
    entry.driver = driver;
    entry.drivers.push(driver);
    // A new stream per start: a restarted node must never reuse an actor id (docs/STATE.md).
    const random = this.world.random.fork(`node:${id}#${incarnation}`);
    try {
      const node = await createNode(
        {
          mesh,
          storage: entry.storage,
          clock,
          random,
          logger: nodeLogger(id, () => this.now, this.#init.logs),
          drivers: everyDriver(driver),
          ...(this.sharedStates === undefined ? {} : { docHandles: this.sharedStates }),
          ...(this.#init.unsafeTestHooks?.disableQuorumGate === true ? { testOnlyDecide: decideWithoutQuorumGate } : {}),
        },
        {
          cluster: this.cluster,
          member: { name: id, addresses: [], facts: { ...entry.spec.facts }, labels: { ...entry.spec.labels } },
          trustedKeys: [this.operator.publicKey],
          membership: this.membership.membership,
          replication: { ...this.#init.replication, syncIntervalMs: this.membership.syncIntervalMs },
          roles: { tickMs: 1_000, retryMs: 2_000, ...this.#init.roles },
        },
      );
      if (clock.halted) return; // crashed while starting
      entry.node = node;
      node.roles.onRoleChange(({ from, to }) => {
        this.roleChanges.push({ time: this.now, node: id, from, to });
        this.world.trace.record(id, 'role:change', { from, to });
      });
      await node.start();
      if (clock.halted) return;
      entry.status = 'up';
    } catch (error) {
      if (clock.halted) return;
      entry.status = 'down';
      this.errors.push({ time: this.now, node: id, message: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Whether node `id` is up and its control-plane software holds a membership its cluster still lists. */
  #serves(id: PeerId): boolean {
    const entry = this.#nodes.get(id);
    return entry?.status === 'up' && entry.driverDisk.memberData && this.controlPlane.isMember(entry.driverDisk.cluster, id);
  }

  /** Boots every node that is down (in id order). */
  async startAll(): Promise<void> {
    for (const n of this.nodes()) if (n.status === 'down') await this.start(n.id);
  }

  /** Hardware failure: the node's clock halts and its mesh goes silent. Its storage survives. */
  crash(id: PeerId): void {
    const entry = this.get(id);
    if (entry.status === 'down') return;
    entry.clock?.halt();
    this.world.network.crash(id);
    entry.status = 'down';
    entry.node = undefined;
    entry.crashedAt = this.now;
  }

  /**
   * Restarts node `id`: crashes it first if it is running, then boots a new incarnation.
   * `wipe` loses its data dir (a new disk): the node comes back with an empty document.
   */
  async restart(id: PeerId, options: { wipe?: boolean } = {}): Promise<void> {
    const entry = this.get(id);
    if (entry.status !== 'down') this.crash(id);
    if (options.wipe === true) {
      entry.storage = new MemoryStorage();
      entry.driverDisk = { memberData: false };
    }
    await this.start(id);
  }

  /**
   * From now on the driver calls of `kinds` fail on node `id` with `reason` — in this incarnation
   * and every later one, as a fault of the machine would (brokenSoftware) — until repairDriver.
   */
  breakDriver(id: PeerId, kinds: readonly DriverCallKind[], reason: string): void {
    const entry = this.get(id);
    entry.brokenDriver = { kinds, reason };
    entry.driver?.failWhen(brokenSoftware(kinds, reason));
    this.world.trace.record(id, 'driver:broken', { kinds: kinds.join(','), reason });
  }

  /** Node `id`'s driver calls succeed again (see breakDriver). */
  repairDriver(id: PeerId): void {
    const entry = this.get(id);
    entry.brokenDriver = undefined;
    entry.driver?.failWhen(undefined);
    this.world.trace.record(id, 'driver:repaired', {});
  }

  partition(groups: readonly (readonly PeerId[])[]): void {
    this.world.network.partition(groups);
  }

  blockOneWay(from: readonly PeerId[], to: readonly PeerId[]): void {
    this.world.network.blockOneWay(from, to);
  }

  heal(): void {
    this.world.network.heal();
  }

  /** Changes the default link profile of every link (loss, latency, jitter, duplication). */
  setLink(profile: Partial<LinkProfile>): void {
    this.world.network.links.setDefault(profile);
    this.world.trace.record('', 'net:link', { ...profile });
  }

  /**
   * Signs `yaml` with the simulation operator key and pushes it into node `atNode` (as
   * `pace policy apply` would). Returns the node's answer.
   */
  applyPolicy(atNode: PeerId, yaml: string): ChooseResult {
    const entry = this.get(atNode);
    if (entry.node === undefined) throw new Error(`cannot apply a policy at ${atNode}: it is down`);
    const signed = signPolicy(yaml, this.operator);
    if (!signed.ok) throw new Error(`policy does not sign: ${signed.reason.message}`);
    const outcome = entry.node.policies.apply(signed.envelope);
    this.world.trace.record(atNode, 'policy:apply', { accepted: outcome.ok, version: signed.envelope.version });
    return outcome;
  }

  /** Runs the world up to absolute virtual time `timeMs`. */
  async runUntil(timeMs: number): Promise<void> {
    await this.world.scheduler.runUntil(timeMs);
  }

  /** Stops every running node gracefully (end of a run; nothing is checked afterwards). */
  async stopAll(): Promise<void> {
    for (const n of this.liveNodes()) {
      n.clock?.halt();
      this.world.network.crash(n.id);
      n.status = 'down';
      n.node = undefined;
    }
  }
}
