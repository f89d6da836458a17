/**
 * bench:agents — the daemon measured as a user runs it: N real `pace agent` processes on
 * loopback inside a private network namespace (bootstrap list, `local` membership profile,
 * log driver), and HashiCorp Serf agents in the same namespace in the same run for comparison.
 * Not a test (CI does not run it): `npm run bench:agents [-- --sizes 10,30 --reps 3 --idle 20]`.
 * Needs root, iproute2 and the Debian package `serf`. Writes the `agents` section of
 * docs/BENCHMARKS.md (`--no-write` to only print).
 *
 * Figures (medians over the repetitions):
 *  - policy propagation: from sending a signed policy to one agent's API to the last agent
 *    logging "policy activated" (agent log timestamps; the same machine clock);
 *  - failover: from `kill -9` of a manager to every survivor logging an assignment without it
 *    (and the first "member declared down", for detection alone);
 *  - idle cost: RSS and CPU of an agent (from /proc), bytes/s per node (loopback counters of the
 *    namespace over the idle window divided by N: wire bytes with headers, the same for both);
 *  - Serf: `serf event -coalesce=false` to the last handler run (handler writes a timestamp),
 *    `kill -9` to every survivor's `member-failed` handler, and the same idle figures.
 */
import '../src/shim/index.js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPrivateKeyFile } from '../src/signing/key-files.js';
import { signPolicy } from '../src/signing/signed-policy.js';
import { AgentFleet, sitePolicy, summarize } from '../test/support/agent-fleet.js';
import { LoopbackNet } from '../test/support/bridge-net.js';
import { writeSection } from './bench/markdown-section.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const SIZES = arg('sizes', '10,30').split(',').map(Number);
const REPS = Number(arg('reps', '3'));
const IDLE_S = Number(arg('idle', '20'));
const WRITE = !argv.includes('--no-write');
const DOC = fileURLToPath(new URL('../../docs/BENCHMARKS.md', import.meta.url));
const CLK_TCK = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, deadlineMs = 300_000, everyMs = 200): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// ---- /proc and the namespace's loopback ------------------------------------------------------

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function loBytes(ns: string): number {
  const out = execFileSync('ip', ['-j', '-s', '-n', ns, 'link', 'show', 'lo'], { encoding: 'utf8' });
  const [link] = JSON.parse(out) as { stats64: { tx: { bytes: number } } }[];
  return link!.stats64.tx.bytes;
}

interface Idle {
  rssMiB: number;
  cpuPct: number;
  bytesPerSecPerNode: number;
}

/** Samples `pids` over the idle window: median RSS and CPU per process, loopback bytes/s per node. */
async function measureIdle(ns: string, pids: number[], seconds: number): Promise<Idle> {
  const t0 = Date.now();
  const ticks0 = pids.map(cpuTicks);
  const lo0 = loBytes(ns);
  await sleep(seconds * 1000);
  const elapsed = (Date.now() - t0) / 1000;
  const ticks1 = pids.map(cpuTicks);
  const lo1 = loBytes(ns);
  const cpu = pids.map((_, i) => ((ticks1[i]! - ticks0[i]!) / CLK_TCK / elapsed) * 100);
  return {
    rssMiB: median(pids.map(rssKiB)) / 1024,
    cpuPct: median(cpu),
    bytesPerSecPerNode: (lo1 - lo0) / elapsed / pids.length,
  };
}

// ---- PACE -------------------------------------------------------------------------------------

interface PaceResult {
  n: number;
  applyMs: number[];
  detectMs: number[];
  failoverMs: number[];
  idle: Idle;
}

const POLICY_LINES = '    prefer: [ "node.memoryMB" ]';
function benchPolicy(version: number): string {
  return sitePolicy(version, POLICY_LINES, 'bench').replace('{ atLeast: 3, managers: 3 } ]', '{ atLeast: 3, managers: 3 }, { atLeast: 7, managers: 5 } ]');
}

function logTime(l: Record<string, unknown>): number {
  return Number(l['time']);
}

async function benchPace(n: number): Promise<PaceResult> {
  const net = LoopbackNet.create();
  const fleet = await AgentFleet.create(net, { cluster: `bench-${n}` });
  let keep = false;
  try {
    process.stdout.write(`PACE N=${n}: starting agents`);
    for (let i = 0; i < n; i++) {
      await fleet.start({ name: `p${String(i).padStart(2, '0')}`, memoryMB: 1000 + 100 * i });
      process.stdout.write('.');
    }
    process.stdout.write('\n');
    await until('every agent sees every member', async () => {
      const lists = await Promise.all(fleet.agents.map((a) => fleet.members(a.index)));
      return lists.every((ms) => ms !== undefined && ms.length === n && ms.every((m) => m.alive));
    });
    const key = await readPrivateKeyFile(fleet.keyFile);

    // (1) policy propagation
    const applyMs: number[] = [];
    for (let r = 1; r <= REPS; r++) {
      const signed = signPolicy(benchPolicy(r), key);
      if (!signed.ok) throw new Error('policy does not sign');
      const offsets = fleet.agents.map((a) => fleet.logText(a).length);
      const t0 = Date.now();
      const verdict = await fleet.applyViaApi(r % n, signed.envelope);
      if (!verdict.accepted) throw new Error(`apply refused: ${JSON.stringify(verdict)}`);
      let times: number[] = [];
      await until(`policy v${r} on every agent`, () => {
        times = fleet.agents.map((a) => fleet.logLines(a, offsets[a.index]).find((l) => l['msg'] === 'policy activated' && l['version'] === r)).map((l) => (l ? logTime(l) : NaN));
        return times.every((t) => !Number.isNaN(t));
      });
      applyMs.push(Math.max(...times) - t0);
      console.log(`  apply v${r}: ${Math.max(...times) - t0} ms to all ${n}`);
      await sleep(2_000);
    }
    const seats = n >= 7 ? 5 : n >= 3 ? 3 : 1;
    const managersNow = async (): Promise<string[]> => (await fleet.status(0))?.managers ?? [];
    let lastStatus = '';
    const settled = async (): Promise<boolean> => {
      const s = await fleet.status(0);
      lastStatus = s ? summarize(s, fleet) : 'no answer';
      return s !== undefined && s.phase === 'idle' && s.managers.length === seats && s.controlPlane.join() === s.managers.join();
    };
    const untilSettled = async (): Promise<void> => {
      try {
        await until('roles settled', settled);
      } catch (err) {
        const churn = fleet.agents.map((a) => fleet.logLines(a).filter((l) => l['msg'] === 'member declared down' || l['msg'] === 'refuting a claim about self').length);
        console.error(`  not settled: p00 ${lastStatus}; down/refute log lines per agent: ${churn.join(' ')}; logs kept in ${fleet.dir}`);
        keep = true;
        throw err;
      }
    };
    await untilSettled();

    // (3) idle cost, before any failure
    await sleep(5_000);
    const idle = await measureIdle(net.name, fleet.agents.map((a) => a.child!.pid!), IDLE_S);
    console.log(`  idle: RSS ${idle.rssMiB.toFixed(1)} MiB, CPU ${idle.cpuPct.toFixed(2)} %, ${idle.bytesPerSecPerNode.toFixed(0)} B/s per node`);

    // (2) failover after kill -9 of a manager
    const detectMs: number[] = [];
    const failoverMs: number[] = [];
    for (let r = 1; r <= REPS; r++) {
      const managers = await managersNow();
      const victim = fleet.byPeer(managers[r % managers.length]!)!;
      const offsets = fleet.agents.map((a) => fleet.logText(a).length);
      const t0 = Date.now();
      await fleet.kill9(victim.index);
      const survivors = fleet.agents.filter((a) => a !== victim);
      let first = NaN;
      let times: number[] = [];
      await until(`every survivor's assignment without ${victim.spec.name}`, () => {
        const downs = survivors.flatMap((a) => fleet.logLines(a, offsets[a.index]).filter((l) => l['msg'] === 'member declared down' && l['node'] === victim.peerId).map(logTime));
        first = downs.length > 0 ? Math.min(...downs) : NaN;
        times = survivors.map((a) => {
          const line = fleet.logLines(a, offsets[a.index]).find((l) => l['msg'] === 'assignment changed' && Array.isArray(l['managers']) && (l['managers'] as string[]).length === seats && !(l['managers'] as string[]).includes(victim.peerId));
          return line ? logTime(line) : NaN;
        });
        return times.every((t) => !Number.isNaN(t));
      });
      detectMs.push(first - t0);
      failoverMs.push(Math.max(...times) - t0);
      console.log(`  kill -9 ${victim.spec.name}: first down verdict ${first - t0} ms, new assignment on all ${n - 1}: ${Math.max(...times) - t0} ms`);
      await fleet.restart(victim.index);
      await until('the restarted agent back everywhere', async () => {
        const ms = await fleet.members(0);
        return ms !== undefined && ms.every((m) => m.alive || m.left);
      });
      await untilSettled();
    }
    return { n, applyMs, detectMs, failoverMs, idle };
  } finally {
    if (keep) await fleet.stopAll();
    else await fleet.destroy();
    await net.cleanup();
  }
}

// ---- Serf -------------------------------------------------------------------------------------

interface SerfResult {
  n: number;
  eventMs: number[];
  firstFailedMs: number[];
  failedMs: number[];
  idle: Idle;
}

async function benchSerf(n: number): Promise<SerfResult> {
  const net = LoopbackNet.create();
  const dir = join(fleetTmp(), `serf-${n}`);
  mkdirSync(dir, { recursive: true });
  const events = join(dir, 'events.log');
  const failed = join(dir, 'failed.log');
  writeFileSync(events, '');
  writeFileSync(failed, '');
  const evScript = join(dir, 'event.sh');
  writeFileSync(evScript, `#!/bin/sh\nt=$(date +%s%N)\necho "$t $SERF_SELF_NAME $SERF_USER_EVENT" >> ${events}\n`);
  const failScript = join(dir, 'failed.sh');
  writeFileSync(failScript, `#!/bin/sh\nt=$(date +%s%N)\nwhile read name rest; do echo "$t $SERF_SELF_NAME $name" >> ${failed}; done\n`);
  chmodSync(evScript, 0o755);
  chmodSync(failScript, 0o755);
  const agents: (ChildProcess | undefined)[] = [];
  const start = (i: number): void => {
    const args = [
      'netns', 'exec', net.name, 'serf', 'agent',
      `-node=s${String(i).padStart(2, '0')}`, `-bind=127.0.0.1:${8000 + i}`, `-rpc-addr=127.0.0.1:${9000 + i}`,
      '-profile=local', '-log-level=warn', `-event-handler=user=${evScript}`, `-event-handler=member-failed=${failScript}`,
      ...(i > 0 ? ['-join=127.0.0.1:8000'] : []),
    ];
    agents[i] = spawn('ip', args, { stdio: 'ignore' });
  };
  const serfCli = (args: string[]): string => execFileSync('ip', ['netns', 'exec', net.name, 'serf', ...args], { encoding: 'utf8' });
  const aliveSeenBy = (i: number): number => {
    try {
      return serfCli(['members', `-rpc-addr=127.0.0.1:${9000 + i}`, '-status=alive']).trim().split('\n').filter(Boolean).length;
    } catch {
      return 0;
    }
  };
  try {
    console.log(`Serf N=${n}: starting agents`);
    for (let i = 0; i < n; i++) {
      start(i);
      await sleep(i === 0 ? 500 : 100);
    }
    // Every agent must know every member: a user event reaches a node missing from the sender's
    // view only through a later push-pull, which would measure the join, not the event.
    await until('serf members everywhere', () => agents.every((_, i) => aliveSeenBy(i) === n));
    await sleep(2_000);

    const eventMs: number[] = [];
    for (let r = 1; r <= REPS; r++) {
      const name = `bench${r}`;
      const t0 = Date.now();
      serfCli(['event', '-coalesce=false', `-rpc-addr=127.0.0.1:${9000 + (r % n)}`, name, 'x']);
      let lines: number[] = [];
      await until(`serf event ${name} everywhere`, () => {
        lines = readFileSync(events, 'utf8').split('\n').filter((l) => l.endsWith(` ${name}`)).map((l) => Number(l.split(' ')[0]) / 1e6);
        return lines.length >= n;
      }, 120_000, 50);
      eventMs.push(Math.max(...lines) - t0);
      console.log(`  event ${name}: ${(Math.max(...lines) - t0).toFixed(0)} ms to all ${n}`);
      await sleep(1_000);
    }

    await sleep(5_000);
    const idle = await measureIdle(net.name, agents.map((c) => c!.pid!), IDLE_S);
    console.log(`  idle: RSS ${idle.rssMiB.toFixed(1)} MiB, CPU ${idle.cpuPct.toFixed(2)} %, ${idle.bytesPerSecPerNode.toFixed(0)} B/s per node`);

    const firstFailedMs: number[] = [];
    const failedMs: number[] = [];
    for (let r = 1; r <= REPS; r++) {
      const v = r % n;
      const victim = `s${String(v).padStart(2, '0')}`;
      const before = readFileSync(failed, 'utf8').split('\n').filter(Boolean).length;
      const t0 = Date.now();
      const child = agents[v]!;
      const gone = new Promise((res) => child.once('exit', res));
      process.kill(child.pid!, 'SIGKILL');
      await gone;
      let times: number[] = [];
      await until(`member-failed ${victim} everywhere`, () => {
        times = readFileSync(failed, 'utf8').split('\n').filter(Boolean).slice(before).filter((l) => l.split(' ')[2] === victim).map((l) => Number(l.split(' ')[0]) / 1e6);
        return times.length >= n - 1;
      }, 300_000, 50);
      firstFailedMs.push(Math.min(...times) - t0);
      failedMs.push(Math.max(...times) - t0);
      console.log(`  kill -9 ${victim}: first member-failed ${(Math.min(...times) - t0).toFixed(0)} ms, on all ${n - 1}: ${(Math.max(...times) - t0).toFixed(0)} ms`);
      start(v);
      const watcher = v === 0 ? 1 : 0;
      await until('restarted serf agent alive everywhere', () => aliveSeenBy(watcher) === n);
      await sleep(2_000);
    }
    return { n, eventMs, firstFailedMs, failedMs, idle };
  } finally {
    for (const c of agents) {
      try {
        if (c?.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await net.cleanup();
  }
}

let tmp: string | undefined;
function fleetTmp(): string {
  tmp ??= execFileSync('mktemp', ['-d', '/tmp/pace-bench-XXXXXX'], { encoding: 'utf8' }).trim();
  return tmp;
}

// ---- report -------------------------------------------------------------------------------------

const fmt = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const ratio = (a: number, b: number): string => `${(a / b).toFixed(1)}×`;

function report(results: { pace: PaceResult; serf: SerfResult }[]): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const lines = [
    '## Daemon (issue 4)',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:agents\` (scripts/bench-agents.ts) on ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, Serf ${serfVersion()}; medians of ${REPS} repetitions; idle window ${IDLE_S} s.`,
    '',
    'N real `pace agent` processes on loopback in one private network namespace (bootstrap list, `--membership-profile local`: probe every 1 s, timeout 200 ms, suspicion ×3; policy: log driver, stabilization 2 s, failureGrace 1 s, 3 managers from 3 nodes and 5 from 7), and N `serf agent -profile=local` (the same probe interval, timeout and suspicion multiplier) in the same namespace, one after the other, on the same machine in the same run.',
    '',
    '| N | policy apply → active on all (PACE) | `serf event` → handler ran on all | ratio | kill -9 → first down verdict (PACE) | kill -9 → new assignment on all (PACE) | kill -9 → first `member-failed` (Serf) | kill -9 → `member-failed` on all (Serf) | ratio (all) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { pace, serf } of results) {
    lines.push(
      `| ${pace.n} | ${fmt(median(pace.applyMs))} | ${fmt(median(serf.eventMs))} | ${ratio(median(pace.applyMs), median(serf.eventMs))} | ${fmt(median(pace.detectMs))} | ${fmt(median(pace.failoverMs))} | ${fmt(median(serf.firstFailedMs))} | ${fmt(median(serf.failedMs))} | ${ratio(median(pace.failoverMs), median(serf.failedMs))} |`,
    );
  }
  lines.push('', '| N | idle agent RSS: PACE / Serf | idle agent CPU: PACE / Serf | bytes/s per node: PACE / Serf | ratios (RSS, CPU, bytes) |', '|---|---|---|---|---|');
  for (const { pace, serf } of results) {
    const p = pace.idle;
    const s = serf.idle;
    lines.push(
      `| ${pace.n} | ${p.rssMiB.toFixed(0)} MiB / ${s.rssMiB.toFixed(0)} MiB | ${p.cpuPct.toFixed(2)} % / ${s.cpuPct.toFixed(2)} % | ${p.bytesPerSecPerNode.toFixed(0)} / ${s.bytesPerSecPerNode.toFixed(0)} | ${ratio(p.rssMiB, s.rssMiB)}, ${ratio(p.cpuPct, s.cpuPct)}, ${ratio(p.bytesPerSecPerNode, s.bytesPerSecPerNode)} |`,
    );
  }
  lines.push(
    '',
    'Raw figures (ms), per repetition:',
    '',
    ...results.flatMap(({ pace, serf }) => [
      `- N=${pace.n} PACE apply ${pace.applyMs.join(', ')}; first down ${pace.detectMs.join(', ')}; new assignment on all ${pace.failoverMs.join(', ')}`,
      `- N=${serf.n} Serf event ${serf.eventMs.map((x) => x.toFixed(0)).join(', ')}; first member-failed ${serf.firstFailedMs.map((x) => x.toFixed(0)).join(', ')}; on all ${serf.failedMs.map((x) => x.toFixed(0)).join(', ')}`,
    ]),
    '',
    'How to read it:',
    '',
    '- *policy apply → active on all*: from sending a signed policy to one agent\'s control API to the last agent logging `policy activated` (agent log timestamps; one machine clock). It travels as a change of the replicated document (gossipsub, then pairwise sync), is verified (ed25519, schema, CEL) on every node, and written back — more work per hop than a Serf user event, which is one UDP gossip message that no one verifies.',
    '- *kill -9 → new assignment on all*: detection (SWIM suspicion, about the same timings as Serf\'s local profile), then the policy\'s `failureGrace` (1 s) before the `down` verdict is written into the document, then replication of the verdict and re-evaluation on every node (each logs `assignment changed`). Serf\'s figure is detection and dissemination only.',
    '- *idle*: after the roles settled and before any failure; bytes/s are the namespace\'s loopback counters over the window divided by N (every byte on the wire, headers included), the same measure for both. RSS and CPU are medians over the N processes from /proc.',
  );
  return lines.join('\n');
}

function serfVersion(): string {
  try {
    return execFileSync('serf', ['version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/^Serf /, '');
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:agents needs root (network namespaces)');
  execFileSync('serf', ['version'], { stdio: 'ignore' });
  const results: { pace: PaceResult; serf: SerfResult }[] = [];
  const failures: string[] = [];
  const serfOnly: SerfResult[] = [];
  for (const n of SIZES) {
    // One side failing (e.g. a saturated machine) still measures and reports the rest, and says so.
    const attempt = async <T>(what: string, run: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await run();
      } catch (err) {
        console.error(err);
        failures.push(`${what} N=${n}: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
    };
    const pace = await attempt('PACE', () => benchPace(n));
    const serf = await attempt('Serf', () => benchSerf(n));
    if (pace && serf) results.push({ pace, serf });
    else if (serf) serfOnly.push(serf);
  }
  if (results.length === 0) throw new Error(`every size failed: ${failures.join('; ')}`);
  const serfLines = serfOnly.map((s) => `- N=${s.n} Serf alone (PACE not measured): event ${fmt(median(s.eventMs))}, member-failed on all ${fmt(median(s.failedMs))}, idle RSS ${s.idle.rssMiB.toFixed(0)} MiB, CPU ${s.idle.cpuPct.toFixed(2)} %, ${s.idle.bytesPerSecPerNode.toFixed(0)} B/s per node`);
  const body =
    report(results) +
    (serfLines.length > 0 ? `\n\n${serfLines.join('\n')}` : '') +
    (failures.length > 0 ? `\n\nNot measured in this run: ${failures.join('; ')}.\n` : '');
  console.log(`\n${body}`);
  if (WRITE) {
    writeSection(DOC, 'agents', body);
    console.log(`\nwrote the agents section of ${DOC}`);
  }
  if (tmp !== undefined) execFileSync('rm', ['-rf', tmp]);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
