/**
 * `npm run fleet`: PACE's main job on one machine. Starts a local fleet of `pace agent`
 * processes, pushes a signed policy into one of them, shows the roles being assigned, then
 * kills the best manager with SIGKILL (a hardware failure) and shows the fleet heal: the dead
 * member is declared down, removed from the control plane, and a worker promoted. Finally the
 * dead node comes back with its identity and joins as a worker.
 *
 * As root the fleet runs inside a private network namespace this script creates and removes
 * (nothing touches the machine's real interfaces); otherwise on 127.0.0.1 with mDNS off.
 * Options: --nodes N (default 5), --keep (leave the temp dir for inspection).
 */
import '../src/shim/index.js';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/cli/package-info.js';
import type { MemberStatus, NodeStatus } from '../src/api/node-control.js';

const root = packageRoot();
const bin = join(root, 'bin', 'pace.js');
const args = process.argv.slice(2);
const size = Number(args[args.indexOf('--nodes') + 1] ?? 5) || 5;
const keep = args.includes('--keep');
const dir = mkdtempSync(join(tmpdir(), 'pace-fleet-'));
const netns = process.getuid?.() === 0 && hasIp() ? `pace-fleet-${process.pid}` : undefined;
const agents = new Map<string, ChildProcess>();
const MEMORY = [8192, 6144, 4096, 2048, 1024, 1024, 1024, 1024, 1024];

function hasIp(): boolean {
  return spawnSync('ip', ['-V'], { stdio: 'ignore' }).status === 0;
}

function inNs(command: string, argv: string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, command, ...argv]] : [command, argv];
}

function pace(...argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const [cmd, full] = inNs(process.execPath, [bin, ...argv]);
  const r = spawnSync(cmd, full, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startAgent(name: string, index: number, bootstrap: string | undefined): void {
  const data = join(dir, name);
  const log = openSync(join(dir, `${name}.log`), 'a');
  const argv = [bin, 'agent', '--node-name', name, '--cluster-name', 'local-fleet', '--data-dir', data, '--listen', `/ip4/127.0.0.1/tcp/${7700 + index}`,
    '--no-mdns', '--api-port', '0', '--trusted-key', join(dir, 'operator.pub'), '--memory-mb', String(MEMORY[index] ?? 1024),
    '--cpus', '2', '--log-level', 'info', ...(bootstrap ? ['--bootstrap', bootstrap] : [])];
  const [cmd, full] = inNs(process.execPath, argv);
  agents.set(name, spawn(cmd, full, { stdio: ['ignore', log, log] }));
}

function status(name: string): NodeStatus | undefined {
  const r = pace('status', '--json', '--data-dir', join(dir, name));
  return r.code === 0 ? (JSON.parse(r.stdout) as NodeStatus) : undefined;
}

function members(name: string): MemberStatus[] {
  const r = pace('members', '--json', '--data-dir', join(dir, name));
  return r.code === 0 ? (JSON.parse(r.stdout) as MemberStatus[]) : [];
}

async function waitFor(what: string, check: () => boolean, seconds = 60): Promise<void> {
  for (let i = 0; i < seconds * 2; i++) {
    if (check()) return;
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what}; agent logs are in ${dir}`);
}

function table(from: string): void {
  const rows = members(from).sort((a, b) => a.name.localeCompare(b.name));
  say(`  ${'NODE'.padEnd(8)}${'STATUS'.padEnd(8)}${'ROLE'.padEnd(16)}MEMORY`);
  for (const m of rows) say(`  ${m.name.padEnd(8)}${(m.left ? 'left' : m.alive ? 'alive' : 'down').padEnd(8)}${(m.role ?? '-').padEnd(16)}${m.facts.memoryMB} MB`);
}

const managersOf = (name: string): string[] => members(name).filter((m) => m.alive && (m.role === 'manager' || m.role === 'manager+worker')).map((m) => m.name).sort();

async function main(): Promise<void> {
  const names = Array.from({ length: size }, (_, i) => `node-${i + 1}`);
  if (netns) {
    execFileSync('ip', ['netns', 'add', netns]);
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  }
  say(`PACE local fleet: ${size} agents ${netns ? `in network namespace ${netns}` : 'on 127.0.0.1'} (data and logs in ${dir})`);
  pace('keygen', '--out', dir, '--name', 'operator');

  startAgent(names[0]!, 0, undefined);
  await waitFor('the first agent', () => status(names[0]!) !== undefined);
  const first = readFileSync(join(dir, `${names[0]}.log`), 'utf8').match(/"addresses":\["([^"]+)"/)?.[1];
  if (!first) throw new Error('cannot read the first agent address');
  names.slice(1).forEach((n, i) => startAgent(n, i + 1, first));
  await waitFor('all agents to see each other', () => members(names[0]!).length === size);
  say(`\n1. ${size} agents discovered each other; no policy yet, so no roles.`);

  const apply = pace('policy', 'apply', join(root, 'policies', 'local-fleet.yaml'), '--key', join(dir, 'operator.key'), '--data-dir', join(dir, names[size - 1]!));
  say(`\n2. policy pushed into ${names[size - 1]} only: ${apply.stdout.trim() || apply.stderr.trim()}`);
  await waitFor('roles to be assigned', () => names.every((n) => status(n)?.policy?.name === 'local-fleet') && managersOf(names[0]!).length === Math.min(3, size) && members(names[0]!).every((m) => m.role !== null));
  say('   every node evaluated the same policy over the same view:');
  table(names[size - 1]!);

  const victim = managersOf(names[size - 1]!)[0]!;
  agents.get(victim)?.kill('SIGKILL');
  const failedAt = Date.now();
  say(`\n3. ${victim} (a manager) is killed with SIGKILL — a hardware failure.`);
  const observer = names.find((n) => n !== victim)!;
  await waitFor('the fleet to heal', () => !managersOf(observer).includes(victim) && managersOf(observer).length === Math.min(3, size - 1));
  say(`   healed in ${((Date.now() - failedAt) / 1000).toFixed(1)} s: declared down, removed from the control plane, a worker promoted:`);
  table(observer);

  startAgent(victim, names.indexOf(victim), first);
  await waitFor(`${victim} to rejoin`, () => members(observer).find((m) => m.name === victim)?.alive === true && status(victim)?.role !== null);
  say(`\n4. ${victim} restarted with its data dir: same identity, back as a worker (managers are sticky):`);
  table(observer);
}

async function cleanup(): Promise<void> {
  for (const child of agents.values()) if (child.exitCode === null) child.kill('SIGTERM');
  await sleep(1_000);
  for (const child of agents.values()) if (child.exitCode === null) child.kill('SIGKILL');
  if (netns) spawnSync('ip', ['netns', 'del', netns]);
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

main()
  .then(() => say('\nDone: the fleet formed, assigned roles and healed with no human involved.'))
  .catch((err: unknown) => {
    process.stderr.write(`local fleet failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => void cleanup());
