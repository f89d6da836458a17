/**
 * Simulation scenarios: YAML files in simulations/scenarios/ that name a fleet, its facts and
 * labels, a policy, the network and membership profile, a fault schedule, a duration and the
 * expected outcome. docs/SIMULATION.md ("Scenarios") documents every field.
 *
 * Loading validates everything up front: an unknown key, a wrong type, a bad duration or a
 * node reference that cannot exist is a {@link ScenarioError} naming the file, the line and
 * the field — and no simulation runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { parseDuration } from '../../src/policy/duration.js';
import { DEFAULT_MEMBERSHIP_PROFILE, MEMBERSHIP_PROFILE_NAMES, MEMBERSHIP_PROFILES, membershipFor, type MembershipProfileName, type MembershipSettings } from '../../src/membership/profiles.js';
import { loadPolicy } from '../../src/policy/load.js';
import type { LinkProfile } from '../harness/links.js';
import { DRIVER_CALL_KINDS, type DriverCallKind } from '../harness/fake-driver.js';

/** The package root: this file runs as dist/simulations/fleet/scenario.js. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

/** A value generator for one fact or label. */
export type Generator<T> = { kind: 'fixed'; value: T } | { kind: 'choices'; values: T[] } | { kind: 'roundRobin'; values: T[] };

/** A reference to a node, resolved when the fault fires. */
export type NodeRef =
  /** A node id. */
  | { kind: 'id'; id: string }
  /** The k-th (0-based, by id) node whose recorded role holds / does not hold a manager seat. */
  | { kind: 'manager' | 'worker'; index: number }
  /** The k-th node by id. */
  | { kind: 'index'; index: number }
  /** A node drawn from the scenario's seeded stream. */
  | { kind: 'random' };

export type PartitionSpec = { kind: 'groups'; groups: NodeRef[][] } | { kind: 'sizes'; sizes: number[]; managersApart: boolean };

export type FaultAction =
  | { kind: 'crash'; node: NodeRef }
  | { kind: 'restart'; node: NodeRef; wipe: boolean }
  | { kind: 'partition'; spec: PartitionSpec }
  | { kind: 'oneWay'; from: NodeRef[]; to: NodeRef[] }
  | { kind: 'heal' }
  | { kind: 'link'; link: Partial<LinkProfile> }
  | { kind: 'applyPolicy'; node: NodeRef; yaml: string; source: string }
  | { kind: 'flap'; node: NodeRef; downMs: number; upMs: number; times: number }
  | { kind: 'rollingRestart'; intervalMs: number; wipe: boolean }
  | { kind: 'driverFails'; node: NodeRef; calls: DriverCallKind[]; reason: string }
  | { kind: 'driverRepaired'; node: NodeRef };

export interface Fault {
  at: number;
  action: FaultAction;
  /** `file:line` of the entry, for messages. */
  where: string;
}

export interface Scenario {
  name: string;
  description: string;
  file: string;
  fleet: {
    size: number;
    idPrefix: string;
    facts: { cpus: Generator<number>; memoryMB: Generator<number>; diskGB: Generator<number>; arch: Generator<string> };
    labels: Record<string, Generator<string>>;
    overrides: Record<string, { facts: Partial<Record<'cpus' | 'memoryMB' | 'diskGB', number>> & { arch?: string }; labels: Record<string, string> }>;
  };
  membership: {
    /** The membership profile (src/membership/profiles.ts); the daemon's default when the scenario names none. */
    profile: MembershipProfileName;
    /** Profile fields the scenario sets itself. */
    overrides: Record<string, number>;
    /** The profile with the overrides: what every node runs. */
    settings: MembershipSettings;
  };
  network: { link: Partial<LinkProfile>; failureDetectionMs?: number; connectDelayMs?: number; relayPaths?: number };
  start: { staggerMs: number };
  policy: { yaml: string; source: string; applyAt: number; applyTo: NodeRef; stabilizationMs: number };
  faults: Fault[];
  durationMs: number;
  expect: {
    managers?: number;
    managerNodes?: string[];
    /** Liveness bound: every live node converged this long after the last fault (or the policy push). */
    convergeWithinMs: number;
    /** After a crash of a manager: the new assignment everywhere within this long. */
    reassignWithinMs?: number;
  };
  /** The scenario's default seed. @default 1 */
  seed: number;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(readonly file: string, readonly line: number, readonly field: string, readonly problem: string) {
    super(`${file}:${line}: ${field === '' ? '' : `${field}: `}${problem}`);
  }
}

type Path = (string | number)[];

/** Reads a parsed YAML document with line numbers for every error. */
class Reader {
  constructor(readonly file: string, private readonly doc: Document, private readonly lines: LineCounter) {}

  lineOf(path: Path): number {
    for (let p = path.slice(); ; p = p.slice(0, -1)) {
      const node = p.length === 0 ? this.doc.contents : this.doc.getIn(p, true);
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return this.lines.linePos(range[0]).line;
      if (p.length === 0) return 1;
    }
  }

  fail(path: Path, problem: string): never {
    throw new ScenarioError(this.file, this.lineOf(path), fieldName(path), problem);
  }

  value(path: Path): unknown {
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    if (node === undefined || node === null) return undefined;
    return (node as { toJSON(): unknown }).toJSON();
  }

  has(path: Path): boolean {
    return this.value(path) !== undefined;
  }

  map(path: Path, allowed: readonly string[], required: readonly string[] = []): Record<string, unknown> {
    const node = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    if (!isMap(node)) this.fail(path, `expected a mapping`);
    const out = this.value(path) as Record<string, unknown>;
    for (const key of Object.keys(out)) {
      if (!allowed.includes(key)) this.fail([...path, key], `unknown key '${key}' (allowed: ${allowed.join(', ')})`);
    }
    for (const key of required) if (out[key] === undefined) this.fail(path, `missing required key '${key}'`);
    return out;
  }

  seq(path: Path): unknown[] {
    const node = this.doc.getIn(path, true);
    if (!isSeq(node)) this.fail(path, 'expected a list');
    return this.value(path) as unknown[];
  }

  str(path: Path, fallback?: string): string {
    const v = this.value(path);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || v === '') this.fail(path, `expected a non-empty string, got ${describe(v)}`);
    return v;
  }

  num(path: Path, options: { fallback?: number; min?: number; max?: number; integer?: boolean } = {}): number {
    const v = this.value(path);
    if (v === undefined && options.fallback !== undefined) return options.fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `expected a number, got ${describe(v)}`);
    if (options.integer === true && !Number.isInteger(v)) this.fail(path, `expected an integer, got ${v}`);
    if (options.min !== undefined && v < options.min) this.fail(path, `must be >= ${options.min}, got ${v}`);
    if (options.max !== undefined && v > options.max) this.fail(path, `must be <= ${options.max}, got ${v}`);
    return v;
  }

  bool(path: Path, fallback: boolean): boolean {
    const v = this.value(path);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') this.fail(path, `expected true or false, got ${describe(v)}`);
    return v;
  }

  duration(path: Path, fallback?: number): number {
    const v = this.value(path);
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
    const ms = typeof v === 'string' ? parseDuration(v) : undefined;
    if (ms === undefined) this.fail(path, `expected a duration like 500ms, 30s, 2m (or milliseconds as a number), got ${describe(v)}`);
    return ms;
  }
}

function fieldName(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

const TOP_KEYS = ['name', 'description', 'seed', 'fleet', 'membership', 'network', 'start', 'policy', 'faults', 'duration', 'expect'];
const FAULT_ACTIONS = ['crash', 'restart', 'partition', 'oneWay', 'heal', 'link', 'applyPolicy', 'flap', 'rollingRestart', 'driverFails', 'driverRepaired'];

/**
 * A scenario's membership: profile `profile` with `overrides` (fields of the profile table).
 * @throws MembershipConfigError naming a wrong field
 */
export function scenarioMembership(profile: MembershipProfileName, overrides: Record<string, number> = {}): Scenario['membership'] {
  return { profile, overrides, settings: membershipFor(profile, overrides) };
}

/** Loads and validates a scenario file. `root` resolves policy paths like `policies/x.yaml`. */
export function loadScenario(file: string, options: { root?: string } = {}): Scenario {
  if (!existsSync(file)) throw new ScenarioError(file, 0, '', 'no such scenario file');
  return parseScenario(readFileSync(file, 'utf8'), file, options);
}

export function parseScenario(text: string, file: string, options: { root?: string } = {}): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ScenarioError(file, e.linePos?.[0]?.line ?? 1, '', `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const r = new Reader(file, doc, lines);
  r.map([], TOP_KEYS, ['name', 'fleet', 'policy', 'duration']);
  // Policy files are looked up from the working directory, then beside the scenario, then in
  // PACE's own package (its shipped policies/), so a shipped scenario runs from anywhere.
  const roots = [...new Set([options.root ?? process.cwd(), dirname(file), PACKAGE_ROOT])];

  // fleet
  r.map(['fleet'], ['size', 'idPrefix', 'facts', 'labels', 'nodes'], ['size']);
  const size = r.num(['fleet', 'size'], { integer: true, min: 1, max: 100_000 });
  const idPrefix = r.str(['fleet', 'idPrefix'], 'n');
  const width = Math.max(2, String(size).length);
  const ids = Array.from({ length: size }, (_, i) => `${idPrefix}${String(i + 1).padStart(width, '0')}`);
  if (r.has(['fleet', 'facts'])) r.map(['fleet', 'facts'], ['cpus', 'memoryMB', 'diskGB', 'arch']);
  const numberGen = (key: string, fallback: number): Generator<number> => generator(r, ['fleet', 'facts', key], fallback, 'number');
  const facts = {
    cpus: numberGen('cpus', 4),
    memoryMB: numberGen('memoryMB', 4096),
    diskGB: numberGen('diskGB', 32),
    arch: generator(r, ['fleet', 'facts', 'arch'], 'amd64', 'string'),
  };
  const labels: Record<string, Generator<string>> = {};
  if (r.has(['fleet', 'labels'])) {
    for (const key of Object.keys(r.map(['fleet', 'labels'], Object.keys(r.value(['fleet', 'labels']) as object)))) {
      labels[key] = generator(r, ['fleet', 'labels', key], '', 'string');
    }
  }
  const overrides: Scenario['fleet']['overrides'] = {};
  if (r.has(['fleet', 'nodes'])) {
    const nodes = r.value(['fleet', 'nodes']);
    if (typeof nodes !== 'object' || nodes === null || Array.isArray(nodes)) r.fail(['fleet', 'nodes'], 'expected a mapping of node id to { facts, labels }');
    for (const id of Object.keys(nodes as object)) {
      if (!ids.includes(id)) r.fail(['fleet', 'nodes', id], `no node '${id}' in a fleet of ${size} (ids ${ids[0]} … ${ids[ids.length - 1]})`);
      r.map(['fleet', 'nodes', id], ['facts', 'labels']);
      const f: Scenario['fleet']['overrides'][string]['facts'] = {};
      if (r.has(['fleet', 'nodes', id, 'facts'])) {
        r.map(['fleet', 'nodes', id, 'facts'], ['cpus', 'memoryMB', 'diskGB', 'arch']);
        for (const k of ['cpus', 'memoryMB', 'diskGB'] as const) if (r.has(['fleet', 'nodes', id, 'facts', k])) f[k] = r.num(['fleet', 'nodes', id, 'facts', k], { min: 0 });
        if (r.has(['fleet', 'nodes', id, 'facts', 'arch'])) f.arch = r.str(['fleet', 'nodes', id, 'facts', 'arch']);
      }
      const l: Record<string, string> = {};
      if (r.has(['fleet', 'nodes', id, 'labels'])) {
        for (const k of Object.keys(r.map(['fleet', 'nodes', id, 'labels'], Object.keys(r.value(['fleet', 'nodes', id, 'labels']) as object)))) l[k] = r.str(['fleet', 'nodes', id, 'labels', k]);
      }
      overrides[id] = { facts: f, labels: l };
    }
  }

  // membership: the daemon's default profile unless the scenario names one (and overrides)
  let membership = scenarioMembership(DEFAULT_MEMBERSHIP_PROFILE);
  const profileName = (path: Path): MembershipProfileName => {
    const name = r.str(path, DEFAULT_MEMBERSHIP_PROFILE);
    if (!(MEMBERSHIP_PROFILE_NAMES as readonly string[]).includes(name)) r.fail(path, `expected a profile (${MEMBERSHIP_PROFILE_NAMES.join(', ')}) or a mapping, got '${name}'`);
    return name as MembershipProfileName;
  };
  if (typeof r.value(['membership']) === 'string') {
    const profile = profileName(['membership']);
    membership = scenarioMembership(profile);
  } else if (r.has(['membership'])) {
    const { profile: _p, ...overrides } = r.map(['membership'], ['profile', ...Object.keys(MEMBERSHIP_PROFILES.lan)]);
    const profile = profileName(['membership', 'profile']);
    try {
      membership = scenarioMembership(profile, overrides as Record<string, number>);
    } catch (err) {
      r.fail(['membership'], (err as Error).message);
    }
  }

  // network
  const network: Scenario['network'] = { link: {} };
  if (r.has(['network'])) {
    r.map(['network'], ['link', 'failureDetectionMs', 'connectDelayMs', 'relayPaths']);
    if (r.has(['network', 'link'])) network.link = linkProfile(r, ['network', 'link']);
    if (r.has(['network', 'failureDetectionMs'])) network.failureDetectionMs = r.duration(['network', 'failureDetectionMs']);
    if (r.has(['network', 'connectDelayMs'])) network.connectDelayMs = r.duration(['network', 'connectDelayMs']);
    if (r.has(['network', 'relayPaths'])) network.relayPaths = r.num(['network', 'relayPaths'], { integer: true, min: 0, max: 64 });
  }
  const start = { staggerMs: 0 };
  if (r.has(['start'])) {
    r.map(['start'], ['staggerMs']);
    start.staggerMs = r.duration(['start', 'staggerMs'], 0);
  }

  const ref = (path: Path): NodeRef => nodeRef(r, path, ids);
  const policyText = (path: Path): { yaml: string; source: string } => {
    r.map(path, ['file', 'inline', 'applyAt', 'applyTo', 'node'].filter((k) => path.length === 1 ? k !== 'node' : k === 'file' || k === 'inline' || k === 'node'));
    const hasFile = r.has([...path, 'file']);
    const hasInline = r.has([...path, 'inline']);
    if (hasFile === hasInline) r.fail(path, "give exactly one of 'file' (a path, e.g. policies/site-ha.yaml) or 'inline' (the policy YAML)");
    let yaml: string;
    let source: string;
    if (hasFile) {
      const rel = r.str([...path, 'file']);
      const found = roots.map((root) => resolve(root, rel)).find((p) => existsSync(p));
      if (found === undefined) r.fail([...path, 'file'], `policy file '${rel}' not found (looked in ${roots.join(', ')})`);
      yaml = readFileSync(found as string, 'utf8');
      source = rel;
    } else {
      yaml = r.str([...path, 'inline']);
      source = `${file}:${r.lineOf([...path, 'inline'])}`;
    }
    const loaded = loadPolicy(yaml, source);
    if (!loaded.ok) r.fail(path, `the policy is invalid: ${loaded.diagnostics.map((d) => `line ${d.line}: ${d.message}`).join('; ')}`);
    return { yaml, source };
  };

  // policy
  const p = policyText(['policy']);
  const loadedPolicy = loadPolicy(p.yaml, p.source);
  const stabilizationMs = loadedPolicy.ok ? loadedPolicy.policy.timing.stabilizationMs : 0;
  const policy: Scenario['policy'] = {
    ...p,
    applyAt: r.duration(['policy', 'applyAt'], 1_000),
    applyTo: r.has(['policy', 'applyTo']) ? ref(['policy', 'applyTo']) : { kind: 'index', index: 0 },
    stabilizationMs,
  };

  // faults
  const faults: Fault[] = [];
  if (r.has(['faults'])) {
    r.seq(['faults']).forEach((_, i) => {
      const path: Path = ['faults', i];
      const entry = r.map(path, ['at', 'wipe', ...FAULT_ACTIONS], ['at']);
      const actions = Object.keys(entry).filter((k) => FAULT_ACTIONS.includes(k));
      if (actions.length !== 1) r.fail(path, `each fault names exactly one action (${FAULT_ACTIONS.join(', ')}), got ${actions.length === 0 ? 'none' : actions.join(' and ')}`);
      const kind = actions[0]!;
      const at = r.duration([...path, 'at']);
      const where = `${file}:${r.lineOf(path)}`;
      const ap: Path = [...path, kind];
      if (entry.wipe !== undefined && kind !== 'restart') r.fail([...path, 'wipe'], "'wipe' belongs to a restart");
      let action: FaultAction | undefined;
      switch (kind) {
        case 'crash':
          action = { kind, node: ref(ap) };
          break;
        case 'restart':
          action = { kind, node: ref(ap), wipe: r.bool([...path, 'wipe'], false) };
          break;
        case 'heal':
          if (r.value(ap) !== true) r.fail(ap, 'write heal: true');
          action = { kind };
          break;
        case 'partition':
          action = { kind, spec: partitionSpec(r, ap, ids, ref) };
          break;
        case 'oneWay': {
          r.map(ap, ['from', 'to'], ['from', 'to']);
          action = { kind, from: r.seq([...ap, 'from']).map((_x, j) => ref([...ap, 'from', j])), to: r.seq([...ap, 'to']).map((_x, j) => ref([...ap, 'to', j])) };
          break;
        }
        case 'link':
          action = { kind, link: linkProfile(r, ap) };
          break;
        case 'applyPolicy': {
          const t = policyText(ap);
          action = { kind, node: r.has([...ap, 'node']) ? ref([...ap, 'node']) : { kind: 'index', index: 0 }, ...t };
          break;
        }
        case 'flap':
          r.map(ap, ['node', 'downMs', 'upMs', 'times'], ['node']);
          action = { kind, node: ref([...ap, 'node']), downMs: r.duration([...ap, 'downMs'], 2_000), upMs: r.duration([...ap, 'upMs'], 3_000), times: r.num([...ap, 'times'], { fallback: 3, integer: true, min: 1 }) };
          break;
        case 'rollingRestart':
          r.map(ap, ['intervalMs', 'wipe']);
          action = { kind, intervalMs: r.duration([...ap, 'intervalMs'], 30_000), wipe: r.bool([...ap, 'wipe'], false) };
          break;
        case 'driverFails': {
          r.map(ap, ['node', 'calls', 'reason'], ['node']);
          const calls = r.has([...ap, 'calls'])
            ? r.seq([...ap, 'calls']).map((_x, j) => {
                const call = r.str([...ap, 'calls', j]);
                if (!(DRIVER_CALL_KINDS as readonly string[]).includes(call)) r.fail([...ap, 'calls', j], `'${call}' is no driver call (${DRIVER_CALL_KINDS.join(', ')})`);
                return call as DriverCallKind;
              })
            : [...DRIVER_CALL_KINDS];
          action = { kind, node: ref([...ap, 'node']), calls, reason: r.str([...ap, 'reason'], 'injected: the control-plane software cannot run on this machine') };
          break;
        }
        case 'driverRepaired':
          action = { kind, node: ref(ap) };
          break;
        default:
          r.fail(ap, `unknown fault '${kind}'`);
      }
      if (action === undefined) r.fail(ap, `unknown fault '${kind}'`);
      faults.push({ at, action: action as FaultAction, where });
    });
  }

  const durationMs = r.duration(['duration']);
  for (const [i, f] of faults.entries()) if (f.at > durationMs) r.fail(['faults', i, 'at'], `at ${f.at} ms is after the end of the run (duration ${durationMs} ms)`);

  const expect: Scenario['expect'] = { convergeWithinMs: 60_000 };
  if (r.has(['expect'])) {
    r.map(['expect'], ['managers', 'managerNodes', 'convergeWithin', 'reassignWithin']);
    if (r.has(['expect', 'managers'])) expect.managers = r.num(['expect', 'managers'], { integer: true, min: 0 });
    if (r.has(['expect', 'managerNodes'])) expect.managerNodes = r.seq(['expect', 'managerNodes']).map((_, j) => {
      const id = r.str(['expect', 'managerNodes', j]);
      if (!ids.includes(id)) r.fail(['expect', 'managerNodes', j], `no node '${id}' in this fleet`);
      return id;
    });
    expect.convergeWithinMs = r.duration(['expect', 'convergeWithin'], 60_000);
    if (r.has(['expect', 'reassignWithin'])) expect.reassignWithinMs = r.duration(['expect', 'reassignWithin']);
  }

  return {
    name: r.str(['name']),
    description: r.has(['description']) ? r.str(['description']) : '',
    file,
    fleet: { size, idPrefix, facts, labels, overrides },
    membership,
    network,
    start,
    policy,
    faults: faults.sort((a, b) => a.at - b.at),
    durationMs,
    expect,
    seed: r.num(['seed'], { fallback: 1, integer: true, min: 0 }),
  };
}

function generator<T extends number | string>(r: Reader, path: Path, fallback: T, type: 'number' | 'string'): Generator<T> {
  const v = r.value(path);
  if (v === undefined) return { kind: 'fixed', value: fallback };
  const check = (x: unknown, at: Path): T => {
    if (typeof x !== type || (type === 'number' && !Number.isFinite(x))) r.fail(at, `expected a ${type}, got ${describe(x)}`);
    return x as T;
  };
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const m = r.map(path, ['choices', 'roundRobin']);
    const key = m.choices !== undefined ? 'choices' : 'roundRobin';
    if (Object.keys(m).length !== 1) r.fail(path, "give one of 'choices' (seeded random pick) or 'roundRobin' (in id order)");
    const values = r.seq([...path, key]).map((x, i) => check(x, [...path, key, i]));
    if (values.length === 0) r.fail([...path, key], 'expected at least one value');
    return { kind: key, values };
  }
  return { kind: 'fixed', value: check(v, path) };
}

function linkProfile(r: Reader, path: Path): Partial<LinkProfile> {
  r.map(path, ['latencyMs', 'jitterMs', 'loss', 'duplicate']);
  const out: Partial<LinkProfile> = {};
  for (const k of ['latencyMs', 'jitterMs'] as const) if (r.has([...path, k])) out[k] = r.num([...path, k], { min: 0 });
  for (const k of ['loss', 'duplicate'] as const) if (r.has([...path, k])) out[k] = r.num([...path, k], { min: 0, max: 1 });
  return out;
}

function nodeRef(r: Reader, path: Path, ids: readonly string[]): NodeRef {
  const v = r.value(path);
  if (typeof v !== 'string') r.fail(path, `expected a node reference (an id like ${ids[0]}, manager, manager:1, worker:0, node:3, random), got ${describe(v)}`);
  if (ids.includes(v)) return { kind: 'id', id: v };
  if (v === 'random') return { kind: 'random' };
  const m = /^(manager|worker|node)(?::([0-9]+))?$/.exec(v);
  if (m) {
    const index = Number(m[2] ?? 0);
    if (m[1] === 'node') {
      if (index >= ids.length) r.fail(path, `node:${index} is beyond a fleet of ${ids.length}`);
      return { kind: 'index', index };
    }
    return { kind: m[1] as 'manager' | 'worker', index };
  }
  r.fail(path, `'${v}' is not a node of this fleet (ids ${ids[0]} … ${ids[ids.length - 1]}) nor a reference (manager, manager:1, worker:0, node:3, random)`);
}

function partitionSpec(r: Reader, path: Path, ids: readonly string[], ref: (p: Path) => NodeRef): PartitionSpec {
  const v = r.value(path);
  if (Array.isArray(v)) {
    const groups = r.seq(path).map((_, i) => r.seq([...path, i]).map((_x, j) => ref([...path, i, j])));
    if (groups.length < 2) r.fail(path, 'a partition needs at least two groups');
    return { kind: 'groups', groups };
  }
  const m = r.map(path, ['sizes', 'fractions', 'managersApart']);
  if ((m.sizes === undefined) === (m.fractions === undefined)) r.fail(path, "give a list of groups, or one of 'sizes' ([3, 2]) or 'fractions' ([0.6, 0.4])");
  let sizes: number[];
  if (m.sizes !== undefined) {
    sizes = r.seq([...path, 'sizes']).map((_, i) => r.num([...path, 'sizes', i], { integer: true, min: 1 }));
  } else {
    const fr = r.seq([...path, 'fractions']).map((_, i) => r.num([...path, 'fractions', i], { min: 0, max: 1 }));
    if (Math.abs(fr.reduce((a, b) => a + b, 0) - 1) > 1e-9) r.fail([...path, 'fractions'], 'fractions must add up to 1');
    sizes = fr.map((f) => Math.round(f * ids.length));
    sizes[sizes.length - 1] = ids.length - sizes.slice(0, -1).reduce((a, b) => a + b, 0);
  }
  if (sizes.length < 2) r.fail(path, 'a partition needs at least two groups');
  if (sizes.reduce((a, b) => a + b, 0) !== ids.length) r.fail(path, `group sizes add up to ${sizes.reduce((a, b) => a + b, 0)}, the fleet has ${ids.length} nodes`);
  return { kind: 'sizes', sizes, managersApart: r.bool([...path, 'managersApart'], true) };
}
