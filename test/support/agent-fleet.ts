/**
 * A fleet of real `pace agent` processes (node bin/pace.js agent …) for end-to-end tests and the
 * agents benchmark. Each agent has its own data dir, node name, listen address (a fixed port, so
 * a restart with the same data dir comes back at the same address), the first agent's multiaddr
 * as bootstrap list, the operator key made by `pace keygen` as trusted key, and `--api-port 0`.
 * Agents run in the namespaces of a {@link FleetNetwork}; tests talk to them only from inside
 * those namespaces: through the `pace` CLI (`ip netns exec NS node bin/pace.js …`) or through a
 * long-lived API client fixture per namespace (cheap polling).
 *
 * Agent logs (pino NDJSON) go to files in the fleet's temp dir; `explain()` appends their tails
 * to a failing test's error. Processes are stopped by pid only.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { MemberStatus, NodeStatus } from '../../src/api/node-control.js';
import type { FleetNetwork } from './bridge-net.js';
import { waitUntil } from './wait.js';

/** The repository's `pace` entry point (bin/pace.js), from dist/test/support/. */
export const PACE_BIN = fileURLToPath(new URL('../../../bin/pace.js', import.meta.url));
const API_PROBE = fileURLToPath(new URL('../fixtures/api-probe.js', import.meta.url));

export const BASE_PORT = 7600;

export interface AgentSpec {
  name: string;
  /** The memory fact the policy sees (--memory-mb). */
  memoryMB: number;
  labels?: Record<string, string>;
  /** Extra `pace agent` flags. */
  args?: string[];
}

export interface AgentHandle {
  readonly index: number;
  readonly spec: AgentSpec;
  readonly dataDir: string;
  readonly logFile: string;
  readonly ns: string;
  readonly listen: string;
  /** Peer id (stable across restarts with the same data dir). */
  peerId: string;
  /** `/ip4/…/tcp/…/p2p/…`, for other agents' bootstrap lists. */
  multiaddr: string;
  child: ChildProcess | undefined;
  /** Resolves with the exit code (or 128+signal) of the current process. */
  exited: Promise<number>;
  running: boolean;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface FleetOptions {
  cluster?: string;
  /** Agent log level. @default info */
  logLevel?: string;
  /** Flags every agent gets (after the fleet's own). */
  commonArgs?: string[];
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

interface Probe {
  child: ChildProcess;
  pending: Map<number, (reply: ProbeReply) => void>;
  next: number;
}

interface ProbeReply {
  id: number;
  ok: boolean;
  body?: unknown;
  error?: string;
}

export class AgentFleet {
  readonly agents: AgentHandle[] = [];
  private readonly probes = new Map<string, Probe>();

  private constructor(
    readonly network: FleetNetwork,
    readonly dir: string,
    readonly cluster: string,
    private readonly options: FleetOptions,
  ) {}

  /** A temp dir and an operator key pair (`pace keygen`, run inside the first namespace). */
  static async create(network: FleetNetwork, options: FleetOptions = {}): Promise<AgentFleet> {
    const dir = await mkdtemp(join(tmpdir(), 'pace-fleet-'));
    const fleet = new AgentFleet(network, dir, options.cluster ?? `e2e-${process.pid}`, options);
    const keygen = await fleet.paceIn(network.nsOf(0), ['keygen', '--out', join(dir, 'keys'), '--name', 'operator', '--json']);
    if (keygen.code !== 0) throw new Error(`pace keygen failed (${keygen.code}): ${keygen.stderr}`);
    return fleet;
  }

  get keyFile(): string {
    return join(this.dir, 'keys', 'operator.key');
  }

  get publicKeyFile(): string {
    return join(this.dir, 'keys', 'operator.pub');
  }

  /** Starts the agents one after the other: the first alone, the others bootstrapping to it. */
  async startAll(specs: readonly AgentSpec[]): Promise<void> {
    for (const spec of specs) await this.start(spec);
  }

  /** Starts a new agent (host index = its position) and waits for its "agent started" line. */
  async start(spec: AgentSpec): Promise<AgentHandle> {
    const index = this.agents.length;
    const handle: AgentHandle = {
      index,
      spec,
      dataDir: join(this.dir, spec.name),
      logFile: join(this.dir, `${spec.name}.log`),
      ns: this.network.nsOf(index),
      listen: `/ip4/${this.network.ipOf(index)}/tcp/${BASE_PORT + index}`,
      peerId: '',
      multiaddr: '',
      child: undefined,
      exited: Promise.resolve(0),
      running: false,
    };
    this.agents.push(handle);
    await this.launch(handle);
    return handle;
  }

  /** Restarts a stopped agent with the same data dir (so the same peer id) and address. */
  async restart(i: number): Promise<void> {
    const a = this.agent(i);
    if (a.running) throw new Error(`${a.spec.name} is still running`);
    await this.launch(a);
  }

  private async launch(a: AgentHandle): Promise<void> {
    const bootstrap = this.agents.find((o) => o !== a && o.running)?.multiaddr;
    const args = [
      'agent',
      '--node-name', a.spec.name,
      '--cluster-name', this.cluster,
      '--data-dir', a.dataDir,
      '--listen', a.listen,
      '--no-mdns',
      '--trusted-key', this.publicKeyFile,
      '--api-port', '0',
      '--membership-profile', 'local',
      '--memory-mb', String(a.spec.memoryMB),
      '--log-level', this.options.logLevel ?? 'info',
      ...(bootstrap ? ['--bootstrap', bootstrap] : []),
      ...Object.entries(a.spec.labels ?? {}).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      ...(this.options.commonArgs ?? []),
      ...(a.spec.args ?? []),
    ];
    const offset = this.logText(a).length;
    const fd = openSync(a.logFile, 'a');
    let child: ChildProcess;
    try {
      // `ip netns exec` execs the command, so the child's pid is the agent's.
      child = spawn('ip', ['netns', 'exec', a.ns, process.execPath, PACE_BIN, ...args], { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    a.child = child;
    a.running = true;
    a.exited = new Promise<number>((resolve) => {
      child.once('exit', (code, signal) => {
        a.running = false;
        resolve(code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0));
      });
    });
    let started: Record<string, unknown> | undefined;
    await waitUntil(
      () => {
        if (!a.running) throw new Error(`${a.spec.name} exited before it started:\n${this.logTail(a, 40)}`);
        started = this.logLines(a, offset).find((l) => l['msg'] === 'agent started');
        return started !== undefined;
      },
      `${a.spec.name}: "agent started" in its log`,
      60_000,
    );
    const addresses = (started?.['addresses'] ?? []) as string[];
    a.peerId = String(started?.['peer']);
    a.multiaddr = addresses.find((x) => x.startsWith(a.listen)) ?? addresses[0] ?? '';
  }

  agent(i: number): AgentHandle {
    const a = this.agents[i];
    if (a === undefined) throw new Error(`no agent ${i}`);
    return a;
  }

  byPeer(peerId: string): AgentHandle | undefined {
    return this.agents.find((a) => a.peerId === peerId);
  }

  /** Names for peer ids (for readable assertions): ['n1', 'n3']. */
  names(peerIds: readonly string[]): string[] {
    return peerIds.map((p) => this.byPeer(p)?.spec.name ?? p).sort();
  }

  running(): AgentHandle[] {
    return this.agents.filter((a) => a.running);
  }

  // ---- processes --------------------------------------------------------------------------

  /** kill -9 the agent; resolves once it is gone. */
  async kill9(i: number): Promise<void> {
    const a = this.agent(i);
    if (!a.running || a.child?.pid === undefined) return;
    process.kill(a.child.pid, 'SIGKILL');
    await a.exited;
  }

  /** Sends a signal (SIGINT leaves, SIGTERM stops) and resolves with the exit code. */
  async signal(i: number, signal: 'SIGINT' | 'SIGTERM'): Promise<number> {
    const a = this.agent(i);
    if (!a.running || a.child?.pid === undefined) throw new Error(`${a.spec.name} is not running`);
    process.kill(a.child.pid, signal);
    return a.exited;
  }

  /** Stops every agent (SIGTERM, then SIGKILL after 15 s) and the API probes. Leaves the files. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.running().map(async (a) => {
        const pid = a.child?.pid;
        if (pid === undefined) return;
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          return;
        }
        const timer = setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // exited meanwhile
          }
        }, 15_000);
        await a.exited;
        clearTimeout(timer);
      }),
    );
    for (const probe of this.probes.values()) probe.child.stdin?.end();
    this.probes.clear();
  }

  /** stopAll, then removes the temp dir. */
  async destroy(): Promise<void> {
    await this.stopAll();
    await rm(this.dir, { recursive: true, force: true });
  }

  // ---- the CLI, inside the namespaces ------------------------------------------------------

  /** Runs `pace ARGS` inside namespace `ns`. */
  paceIn(ns: string, args: readonly string[], timeoutMs = 90_000): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', ns, process.execPath, PACE_BIN, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Runs `pace ARGS --data-dir <agent i's>` in agent i's namespace. */
  pace(i: number, args: readonly string[]): Promise<CliResult> {
    const a = this.agent(i);
    return this.paceIn(a.ns, [...args, '--data-dir', a.dataDir]);
  }

  /** `pace ARGS --json --data-dir …`, parsed; throws with the output when the exit code is not 0. */
  async paceJson<T>(i: number, args: readonly string[]): Promise<T> {
    const r = await this.pace(i, [...args, '--json']);
    if (r.code !== 0) throw new Error(`pace ${args.join(' ')} on ${this.agent(i).spec.name} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout) as T;
  }

  // ---- the API, through one long-lived client per namespace ----------------------------------

  private probe(ns: string): Probe {
    let probe = this.probes.get(ns);
    if (probe !== undefined) return probe;
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, API_PROBE], { stdio: ['pipe', 'pipe', 'inherit'] });
    const created: Probe = { child, pending: new Map(), next: 1 };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const reply = JSON.parse(line) as ProbeReply;
      created.pending.get(reply.id)?.(reply);
      created.pending.delete(reply.id);
    });
    child.once('exit', () => {
      for (const resolve of created.pending.values()) resolve({ id: 0, ok: false, error: 'probe exited' });
      created.pending.clear();
      this.probes.delete(ns);
    });
    this.probes.set(ns, created);
    probe = created;
    return probe;
  }

  private ask(i: number, op: 'status' | 'members' | 'policy' | 'apply', envelope?: unknown): Promise<ProbeReply> {
    const a = this.agent(i);
    const probe = this.probe(a.ns);
    const id = probe.next++;
    return new Promise((resolve) => {
      probe.pending.set(id, resolve);
      probe.child.stdin!.write(`${JSON.stringify({ id, dataDir: a.dataDir, op, envelope })}\n`);
    });
  }

  /** Agent i's status, or undefined when it does not answer. */
  async status(i: number): Promise<NodeStatus | undefined> {
    const r = await this.ask(i, 'status');
    return r.ok ? (r.body as NodeStatus) : undefined;
  }

  /** Pushes a signed envelope into agent i through its API (no CLI start-up in the way). */
  async applyViaApi(i: number, envelope: unknown): Promise<{ accepted: boolean; code?: string; reason?: string }> {
    const r = await this.ask(i, 'apply', envelope);
    if (!r.ok) throw new Error(`apply on ${this.agent(i).spec.name} failed: ${r.error}`);
    return r.body as { accepted: boolean };
  }

  async members(i: number): Promise<MemberStatus[] | undefined> {
    const r = await this.ask(i, 'members');
    return r.ok ? (r.body as MemberStatus[]) : undefined;
  }

  /** Statuses of the given agents (default: the running ones), keyed by name; undefined = no answer. */
  async statuses(indices: readonly number[] = this.running().map((a) => a.index)): Promise<Map<string, NodeStatus | undefined>> {
    const answers = await Promise.all(indices.map((i) => this.status(i)));
    return new Map(indices.map((i, k) => [this.agent(i).spec.name, answers[k]]));
  }

  /**
   * Polls the statuses of `indices` (default: running agents) until `predicate` holds for them
   * (every agent answering); returns the statuses that satisfied it. Never asserts on time: the
   * deadline only turns a hang into a failure that shows the last statuses.
   */
  async waitForStatuses(
    description: string,
    predicate: (statuses: NodeStatus[]) => boolean,
    options: { indices?: readonly number[]; deadlineMs?: number; intervalMs?: number } = {},
  ): Promise<NodeStatus[]> {
    let last: Map<string, NodeStatus | undefined> = new Map();
    let result: NodeStatus[] = [];
    try {
      await waitUntil(
        async () => {
          last = await this.statuses(options.indices);
          const all = [...last.values()];
          if (all.some((s) => s === undefined)) return false;
          result = all as NodeStatus[];
          if (predicate(result)) return true;
          await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
          return false;
        },
        description,
        options.deadlineMs ?? 120_000,
      );
    } catch (err) {
      const summary = [...last.entries()].map(([name, s]) => `  ${name}: ${s ? summarize(s, this) : 'no answer'}`).join('\n');
      throw new Error(`${err instanceof Error ? err.message : String(err)}\nlast statuses:\n${summary}`);
    }
    return result;
  }

  /** Polls agent i's member list until `predicate` holds. */
  async waitForMembers(i: number, predicate: (members: MemberStatus[]) => boolean, deadlineMs = 120_000): Promise<MemberStatus[]> {
    let last: MemberStatus[] | undefined;
    try {
      await waitUntil(async () => {
        last = await this.members(i);
        if (last !== undefined && predicate(last)) return true;
        await new Promise((r) => setTimeout(r, 250));
        return false;
      }, `members as seen by ${this.agent(i).spec.name}`, deadlineMs);
    } catch (err) {
      const summary = (last ?? []).map((m) => `  ${m.name}: alive=${m.alive} left=${m.left} local=${m.local} role=${m.role}`).join('\n');
      throw new Error(`${err instanceof Error ? err.message : String(err)}\nlast members:\n${summary}`);
    }
    return last ?? [];
  }

  // ---- logs -----------------------------------------------------------------------------------

  logText(a: AgentHandle): string {
    try {
      return readFileSync(a.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Parsed log lines of agent a from a byte offset (unparsable lines skipped). */
  logLines(a: AgentHandle, offset = 0): Record<string, unknown>[] {
    return this.logText(a)
      .slice(offset)
      .split('\n')
      .flatMap((line) => {
        if (line.trim() === '') return [];
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [{ msg: line }];
        }
      });
  }

  logTail(a: AgentHandle, lines: number): string {
    return this.logText(a)
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l))
      .join('\n');
  }

  /** Runs `body`; when it throws, appends every agent's log tail to the error. */
  async explain<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      const logs = this.agents.map((a) => `--- ${a.spec.name} (${a.running ? 'running' : 'stopped'}) ${a.logFile} ---\n${this.logTail(a, 30)}`).join('\n');
      const message = err instanceof Error ? err.message : String(err);
      const wrapped = new Error(`${message}\n${logs}`);
      if (err instanceof Error && err.stack) wrapped.stack = `${wrapped.message}\n${err.stack.split('\n').slice(1).join('\n')}`;
      throw wrapped;
    }
  }
}

/**
 * A test policy for the log driver with short windows (stabilization 2s, failureGrace 1s):
 * one manager from one eligible node, three from three; `managersSpec` adds lines under
 * `spec.managers` (prefer, sticky, …), indented by four spaces.
 */
export function sitePolicy(version: number, managersSpec: string, name = 'e2e-site'): string {
  return `apiVersion: pace/v1
kind: ClusterPolicy
metadata: { name: ${name}, version: ${version} }
spec:
  driver: { name: log }
  managers:
    count: [ { atLeast: 1, managers: 1 }, { atLeast: 3, managers: 3 } ]
${managersSpec}
    alsoWorker: true
  timing: { stabilization: 2s, failureGrace: 1s }
`;
}

/** One line per status for failure messages, with names instead of peer ids. */
export function summarize(s: NodeStatus, fleet: AgentFleet): string {
  return `role=${s.role} desired=${s.desiredRole} phase=${s.phase} (${s.reason}) minority=${s.minority} policy=${s.policy ? `${s.policy.name}v${s.policy.version}` : 'none'} managers=[${fleet.names(s.managers).join(',')}] controlPlane=[${fleet.names(s.controlPlane).join(',')}] peers=${s.peers}`;
}

/** Five agents whose memory ranks them n1 > n2 > … > n5 (the fleet most tests use). */
export const FIVE_AGENTS: readonly AgentSpec[] = [
  { name: 'n1', memoryMB: 5000 },
  { name: 'n2', memoryMB: 4000 },
  { name: 'n3', memoryMB: 3000 },
  { name: 'n4', memoryMB: 2000 },
  { name: 'n5', memoryMB: 1000 },
];
