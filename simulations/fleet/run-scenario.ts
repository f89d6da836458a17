/**
 * Runs one scenario with one seed: builds the fleet (facts and labels from the scenario's
 * generators), schedules the starts, the policy push and the fault schedule on the virtual
 * clock, samples the fleet for the checkers and the report, and returns every violation with
 * the metrics (time to converge, failure → reassignment, traffic, role changes) and the trace
 * hash. Deterministic: the same scenario, seed and node count give the same report.
 */
import { performance } from 'node:perf_hooks';
import { isManagerRole, type Role } from '../../src/policy/types.js';
import { SeededRandom } from '../../src/seams/seeded-random.js';
import { shuffled } from '../../src/seams/random.js';
import { formatRejection } from '../../src/signing/signed-policy.js';
import { allCheckers, type Checker, type CheckContext, type Violation } from '../checkers/index.js';
import { convergence, recordedControlPlane, type ConvergenceState } from '../checkers/fleet-view.js';
import type { Fault, Generator, NodeRef, PartitionSpec, Scenario } from './scenario.js';
import { SimFleet, type SimNodeSpec, type UnsafeTestHooks } from './sim-fleet.js';
import type { NodeLogSink } from './node-logs.js';
import { DEFAULT_RELAY_PATHS } from '../harness/sim-network.js';

export interface RunOptions {
  seed?: number;
  /** Overrides the scenario's fleet size (faults naming ids beyond it are a harness error). */
  nodes?: number;
  /** Sampling interval of checkers and the timeline. @default max(250, N/2) ms */
  sampleMs?: number;
  /** TEST ONLY: see {@link UnsafeTestHooks}. */
  unsafeTestHooks?: UnsafeTestHooks;
  /** Called after each sample (the CLI's progress display), with the wall time so far. */
  onProgress?: (nowMs: number, durationMs: number, wallMs: number) => void;
  /** Chosen nodes' log lines (`pace sim run --logs`); they never change the run. */
  logs?: NodeLogSink;
}

export interface TimelineSample {
  t: number;
  live: number;
  /** Share of live nodes holding the most common document heads. */
  headsAgreement: number;
  converged: boolean;
  roles: Record<Role | 'unassigned', number>;
}

export interface Reassignment {
  node: string;
  crashedAt: number;
  /** When the fleet had converged on an assignment without it, or undefined if it never did. */
  reassignedAt?: number;
  ms?: number;
}

export interface RunReport {
  scenario: string;
  file: string;
  seed: number;
  nodes: number;
  /** Every parameter derived from the scenario and the seed. */
  parameters: Record<string, string | number | boolean>;
  violations: Violation[];
  metrics: {
    /** First time the whole fleet had converged (from virtual 0), if ever. */
    firstConvergedMs?: number;
    /** When the last fault ended; the liveness phase starts there. */
    quietAtMs: number;
    /** From the last fault to convergence. */
    timeToConvergeMs?: number;
    reassignments: Reassignment[];
    messagesPerNodePerSec: number;
    bytesPerNodePerSec: number;
    roleChanges: number;
    firstRoles: number;
    schedulerEvents: number;
    traceEvents: number;
    virtualMs: number;
    wallMs: number;
    drops: Record<string, number>;
  };
  timeline: TimelineSample[];
  traffic: { node: string; wireBytesOut: number; wireBytesIn: number; wireMessagesOut: number; wireMessagesIn: number }[];
  traceHash: string;
}

/** Node ids of a fleet of `size`: `<prefix>01`, `<prefix>02`, … (at least two digits). */
export function fleetIds(prefix: string, size: number): string[] {
  const width = Math.max(2, String(size).length);
  return Array.from({ length: size }, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`);
}

export function nodeSpecs(scenario: Scenario, size: number, random: SeededRandom): SimNodeSpec[] {
  const ids = fleetIds(scenario.fleet.idPrefix, size);
  const gen = <T>(g: Generator<T>, i: number, r: SeededRandom): T => (g.kind === 'fixed' ? g.value : g.kind === 'roundRobin' ? g.values[i % g.values.length]! : g.values[r.int(g.values.length)]!);
  const factsRandom = random.fork('scenario:facts');
  const f = scenario.fleet.facts;
  return ids.map((id, i) => {
    const o = scenario.fleet.overrides[id];
    const labels: Record<string, string> = {};
    for (const [k, g] of Object.entries(scenario.fleet.labels)) labels[k] = gen(g, i, factsRandom);
    return {
      id,
      facts: { cpus: gen(f.cpus, i, factsRandom), memoryMB: gen(f.memoryMB, i, factsRandom), diskGB: gen(f.diskGB, i, factsRandom), arch: gen(f.arch, i, factsRandom), ...o?.facts },
      labels: { ...labels, ...o?.labels },
    };
  });
}

/**
 * A partition's group sizes in a fleet of `size`: as written when they add up to it (the
 * scenario's own size, checked when it loads; `fractions` are sizes by then); with `--nodes`, in
 * the same proportions (a 3|2 split of 7 nodes is 4|3) by largest remainder, every group keeping
 * at least one node and a group that held a strict majority keeping one (3|2 of 4 is 3|1, not
 * 2|2), as far as the fleet allows. Undefined when the fleet has fewer nodes than groups.
 */
export function groupSizesFor(written: readonly number[], size: number): number[] | undefined {
  const total = written.reduce((a, b) => a + b, 0);
  if (total === size) return [...written];
  if (size < written.length) return undefined;
  const quotas = written.map((n) => (n * size) / total);
  const sizes = quotas.map((q) => Math.max(1, Math.floor(q)));
  const byRemainder = quotas.map((_, i) => i).sort((i, j) => quotas[j]! - Math.floor(quotas[j]!) - (quotas[i]! - Math.floor(quotas[i]!)) || i - j);
  let left = size - sizes.reduce((a, b) => a + b, 0);
  for (let k = 0; left > 0; k++, left--) sizes[byRemainder[k % sizes.length]!]!++;
  // Below zero only when groups were raised to one node: take back from the largest.
  for (; left < 0; left++) sizes[largestOther(sizes, -1)]!--;
  const majority = written.findIndex((n) => n * 2 > total);
  while (majority >= 0 && sizes[majority]! * 2 <= size) {
    const donor = largestOther(sizes, majority);
    if (sizes[donor]! <= 1) break;
    sizes[donor]!--;
    sizes[majority]!++;
  }
  return sizes;
}

/** Index of the largest group other than `except` (the last of equals). */
function largestOther(sizes: readonly number[], except: number): number {
  let best = -1;
  for (let i = 0; i < sizes.length; i++) if (i !== except && (best < 0 || sizes[i]! >= sizes[best]!)) best = i;
  return best;
}

/** When a fault's effect ends (a flap and a rolling restart take a while). */
function faultEnd(f: Fault, size: number): number {
  if (f.action.kind === 'flap') return f.at + f.action.times * (f.action.downMs + f.action.upMs);
  if (f.action.kind === 'rollingRestart') return f.at + size * f.action.intervalMs;
  return f.at;
}

/** When the last fault (or the policy push) is over, in a fleet of `size`. */
function quietAtFor(scenario: Scenario, size: number): number {
  return Math.max(scenario.policy.applyAt, ...scenario.faults.map((f) => faultEnd(f, size)));
}

export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<RunReport> {
  const wallStart = performance.now();
  const seed = options.seed ?? scenario.seed;
  const size = options.nodes ?? scenario.fleet.size;
  const root = new SeededRandom(seed);
  const specs = nodeSpecs(scenario, size, root);
  const ids = specs.map((s) => s.id);
  const fleet = new SimFleet({
    seed,
    nodes: specs,
    membership: scenario.membership.settings,
    network: { link: scenario.network.link, ...(scenario.network.failureDetectionMs === undefined ? {} : { failureDetectionMs: scenario.network.failureDetectionMs }), ...(scenario.network.connectDelayMs === undefined ? {} : { connectDelayMs: scenario.network.connectDelayMs }), ...(scenario.network.relayPaths === undefined ? {} : { relayPaths: scenario.network.relayPaths }) },
    ...(options.unsafeTestHooks === undefined ? {} : { unsafeTestHooks: options.unsafeTestHooks }),
    ...(options.logs === undefined ? {} : { logs: options.logs }),
  });
  const clock = fleet.world.scheduler.clock;
  const faultRandom = root.fork('scenario:faults');
  const startRandom = root.fork('scenario:start');
  const sampleMs = options.sampleMs ?? Math.max(250, Math.round(size / 2));
  const quietAt = quietAtFor(scenario, size);
  // A fault schedule that scales with the fleet (a rolling restart, node by node) ends later in a
  // bigger fleet: the run keeps the time the scenario leaves after its last fault at its own size.
  const durationMs = Math.max(scenario.durationMs, quietAt + (scenario.durationMs - quietAtFor(scenario, scenario.fleet.size)));
  const harness: Violation[] = [];
  const harnessError = (details: string): void => void harness.push({ checker: 'harness', time: fleet.now, details });

  let memo: { at: number; state: ConvergenceState } | undefined;
  const ctx: CheckContext = {
    fleet,
    quietAt,
    stabilizationMs: scenario.policy.stabilizationMs,
    convergeWithinMs: scenario.expect.convergeWithinMs,
    phase: () => (fleet.now >= quietAt ? 'healed' : 'faults'),
    convergence: () => {
      if (memo?.at !== fleet.now) memo = { at: fleet.now, state: convergence(fleet) };
      return memo.state;
    },
  };
  // `expect.managers` and `expect.managerNodes` are written for the scenario's own fleet size; at
  // another size (`--nodes`) the policy's own target and choice, which managers-match-policy
  // checks anyway, are the expectation.
  const { managers: expectedManagers, managerNodes: expectedManagerNodes } = scenario.expect;
  const atOwnSize = size === scenario.fleet.size;
  const { checkers, convergence: liveness } = allCheckers(atOwnSize ? scenario.expect : {});
  fleet.onDriverCall((event) => {
    for (const c of checkers) c.driverCall?.(ctx, event);
  });

  // ---- node references, resolved from node-visible state when a fault fires ----
  const managersNow = (): string[] =>
    fleet
      .liveNodes()
      .filter((n) => isManagerRole(n.node!.roles.snapshot().role))
      .map((n) => n.id);
  const resolve = (ref: NodeRef): string | undefined => {
    switch (ref.kind) {
      case 'id':
        return ids.includes(ref.id) ? ref.id : undefined;
      case 'index':
        return ids[ref.index];
      case 'random':
        return ids[faultRandom.int(ids.length)];
      case 'manager':
        return managersNow()[ref.index];
      case 'worker': {
        const managers = new Set(managersNow());
        return fleet.liveNodes().map((n) => n.id).filter((id) => !managers.has(id))[ref.index];
      }
    }
  };
  const need = (ref: NodeRef, what: string): string | undefined => {
    const id = resolve(ref);
    if (id === undefined) harnessError(`${what}: no node matches ${JSON.stringify(ref)}`);
    return id;
  };
  const partitionGroups = (spec: PartitionSpec): string[][] | undefined => {
    if (spec.kind === 'groups') return spec.groups.map((g) => g.map((r) => need(r, 'partition')).filter((x): x is string => x !== undefined));
    const sizes = groupSizesFor(spec.sizes, ids.length);
    if (sizes === undefined) {
      harnessError(`partition: ${spec.sizes.length} groups need at least ${spec.sizes.length} nodes; the fleet has ${ids.length}`);
      return undefined;
    }
    const managers = spec.managersApart ? managersNow() : [];
    const rest = shuffled(faultRandom, ids.filter((id) => !managers.includes(id)));
    const groups: string[][] = sizes.map(() => []);
    let g = 0;
    for (const m of managers) {
      // Round-robin the managers over the groups that still have room, so every side holds some.
      for (let tries = 0; tries < groups.length && groups[g]!.length >= sizes[g]!; tries++) g = (g + 1) % groups.length;
      groups[g]!.push(m);
      g = (g + 1) % groups.length;
    }
    for (const id of rest) {
      const open = groups.findIndex((grp, i) => grp.length < sizes[i]!);
      groups[open]!.push(id);
    }
    return groups.map((grp) => grp.sort());
  };
  const reassignments: Reassignment[] = [];
  const crash = (id: string): void => {
    const up = fleet.liveNodes()[0];
    const wasManager = up !== undefined && recordedControlPlane(up.node!).includes(id);
    fleet.crash(id);
    if (wasManager) reassignments.push({ node: id, crashedAt: fleet.now });
  };
  const at = (time: number, run: () => void): void => void clock.setTimer(Math.max(0, time - fleet.now), run);
  const restart = (id: string, wipe: boolean): void => {
    void fleet.restart(id, { wipe }); // a reboot: crash and boot at once (not a failure to reassign)
  };
  const applyAt = (ref: NodeRef, yaml: string): void => {
    const id = need(ref, 'apply-policy');
    if (id === undefined) return;
    if (fleet.get(id).status !== 'up') return harnessError(`apply-policy: ${id} is not up`);
    const outcome = fleet.applyPolicy(id, yaml);
    if (!outcome.ok) harnessError(`apply-policy at ${id} rejected: ${formatRejection(outcome.reason)}`);
  };
  const perform = (f: Fault): void => {
    const a = f.action;
    switch (a.kind) {
      case 'crash': {
        const id = need(a.node, `crash (${f.where})`);
        if (id !== undefined) crash(id);
        break;
      }
      case 'restart': {
        const id = need(a.node, `restart (${f.where})`);
        if (id !== undefined) restart(id, a.wipe);
        break;
      }
      case 'partition': {
        const groups = partitionGroups(a.spec);
        if (groups !== undefined) fleet.partition(groups);
        break;
      }
      case 'oneWay':
        fleet.blockOneWay(a.from.map((r) => need(r, 'oneWay')).filter((x): x is string => x !== undefined), a.to.map((r) => need(r, 'oneWay')).filter((x): x is string => x !== undefined));
        break;
      case 'heal':
        fleet.heal();
        break;
      case 'link':
        fleet.setLink(a.link);
        break;
      case 'applyPolicy':
        applyAt(a.node, a.yaml);
        break;
      case 'flap': {
        const id = need(a.node, `flap (${f.where})`);
        if (id === undefined) break;
        for (let i = 0; i < a.times; i++) {
          const cycle = fleet.now + i * (a.downMs + a.upMs);
          at(cycle, () => crash(id));
          at(cycle + a.downMs, () => restart(id, false));
        }
        break;
      }
      case 'rollingRestart':
        ids.forEach((id, i) => at(fleet.now + i * a.intervalMs, () => restart(id, a.wipe)));
        break;
      case 'driverFails': {
        const id = need(a.node, `driverFails (${f.where})`);
        if (id !== undefined) fleet.breakDriver(id, a.calls, a.reason);
        break;
      }
      case 'driverRepaired': {
        const id = need(a.node, `driverRepaired (${f.where})`);
        if (id !== undefined) fleet.repairDriver(id);
        break;
      }
    }
  };

  // ---- schedule: starts, policy, faults, samples ----
  for (const id of ids) {
    const delay = scenario.start.staggerMs > 0 ? startRandom.int(scenario.start.staggerMs) : 0;
    at(delay, () => {
      if (fleet.get(id).status === 'down' && fleet.get(id).starts === 0) void fleet.start(id);
    });
  }
  at(scenario.policy.applyAt, () => applyAt(scenario.policy.applyTo, scenario.policy.yaml));
  for (const f of scenario.faults) at(f.at, () => perform(f));

  const timeline: TimelineSample[] = [];
  let firstConvergedMs: number | undefined;
  const sample = (): void => {
    const state = ctx.convergence();
    if (state.converged && firstConvergedMs === undefined) firstConvergedMs = fleet.now;
    for (const r of reassignments) {
      if (r.reassignedAt !== undefined || fleet.get(r.node).status !== 'down' || !state.converged) continue;
      r.reassignedAt = fleet.now;
      r.ms = fleet.now - r.crashedAt;
    }
    const roles: TimelineSample['roles'] = { manager: 0, 'manager+worker': 0, worker: 0, none: 0, unassigned: 0 };
    const live = fleet.liveNodes();
    for (const n of live) roles[n.node!.roles.snapshot().role ?? 'unassigned']++;
    timeline.push({ t: fleet.now, live: live.length, headsAgreement: round(state.headsAgreement, 4), converged: state.converged, roles });
    for (const c of checkers) c.sample?.(ctx);
    options.onProgress?.(fleet.now, durationMs, performance.now() - wallStart);
  };
  const tick = (): void => {
    sample();
    if (fleet.now + sampleMs <= durationMs) clock.setTimer(sampleMs, tick);
  };
  clock.setTimer(sampleMs, tick);

  await fleet.runUntil(durationMs);
  for (const c of checkers) c.finish?.(ctx);
  for (const e of fleet.errors) harness.push({ checker: 'harness', time: e.time, details: `${e.node}: ${e.message}` });

  const totals = fleet.world.network.totals();
  const seconds = durationMs / 1000;
  const violations = [...harness, ...checkers.flatMap((c: Checker) => c.violations)].sort((a, b) => a.time - b.time || (a.checker < b.checker ? -1 : 1));
  const report: RunReport = {
    scenario: scenario.name,
    file: scenario.file,
    seed,
    nodes: size,
    parameters: {
      seed,
      nodes: size,
      durationMs,
      quietAtMs: quietAt,
      sampleMs,
      membership: [scenario.membership.profile, ...Object.entries(scenario.membership.overrides).map(([k, v]) => `${k}=${v}`)].join(' '),
      ...scenario.membership.settings.membership,
      syncIntervalMs: scenario.membership.settings.syncIntervalMs,
      latencyMs: fleet.world.network.links.defaults().latencyMs,
      jitterMs: fleet.world.network.links.defaults().jitterMs,
      loss: fleet.world.network.links.defaults().loss,
      duplicate: fleet.world.network.links.defaults().duplicate,
      failureDetectionMs: scenario.network.failureDetectionMs ?? 1_000,
      relayPaths: scenario.network.relayPaths ?? DEFAULT_RELAY_PATHS,
      startStaggerMs: scenario.start.staggerMs,
      policy: scenario.policy.source,
      policyApplyAtMs: scenario.policy.applyAt,
      stabilizationMs: scenario.policy.stabilizationMs,
      convergeWithinMs: scenario.expect.convergeWithinMs,
      expectedManagers: expectedManagers === undefined ? 'the policy target' : atOwnSize ? expectedManagers : `the policy target (the scenario's ${expectedManagers} holds at its ${scenario.fleet.size} nodes)`,
      ...(expectedManagerNodes === undefined
        ? {}
        : { expectedManagerNodes: atOwnSize ? expectedManagerNodes.join(', ') : `the policy's choice (the scenario's ${expectedManagerNodes.join(', ')} hold at its ${scenario.fleet.size} nodes)` }),
      faults: scenario.faults.length,
      operatorKeyId: fleet.operator.keyId,
    },
    violations,
    metrics: {
      ...(firstConvergedMs === undefined ? {} : { firstConvergedMs }),
      quietAtMs: quietAt,
      ...(liveness.convergedAt === undefined ? {} : { timeToConvergeMs: liveness.convergedAt - quietAt }),
      reassignments,
      messagesPerNodePerSec: round(totals.wireMessagesOut / size / seconds, 2),
      bytesPerNodePerSec: round(totals.wireBytesOut / size / seconds, 1),
      roleChanges: fleet.roleChanges.filter((c) => c.from !== null).length,
      firstRoles: fleet.roleChanges.filter((c) => c.from === null).length,
      schedulerEvents: fleet.world.scheduler.eventsRun,
      traceEvents: fleet.world.trace.length,
      virtualMs: fleet.now,
      wallMs: Math.round(performance.now() - wallStart),
      drops: fleet.world.network.dropped(),
    },
    timeline,
    traffic: ids.map((id) => {
      const s = fleet.world.network.stats(id);
      return { node: id, wireBytesOut: s.wireBytesOut, wireBytesIn: s.wireBytesIn, wireMessagesOut: s.wireMessagesOut, wireMessagesIn: s.wireMessagesIn };
    }),
    traceHash: fleet.world.trace.hash(),
  };
  await fleet.stopAll();
  if (scenario.expect.reassignWithinMs !== undefined) {
    for (const r of reassignments) {
      if (r.ms === undefined || r.ms > scenario.expect.reassignWithinMs) {
        report.violations.push({ checker: 'reassignment', time: r.crashedAt, details: `manager ${r.node} crashed at ${r.crashedAt} ms; ${r.ms === undefined ? 'the fleet never converged on a new assignment while it was down' : `reassigned after ${r.ms} ms`} (bound ${scenario.expect.reassignWithinMs} ms)`, node: r.node });
      }
    }
  }
  return report;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
