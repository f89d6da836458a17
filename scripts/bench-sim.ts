/**
 * `npm run bench:sim`: figures for the fleet simulator (issue 5), written into
 * docs/BENCHMARKS.md between `<!-- bench:sim:start -->` and `<!-- bench:sim:end -->`.
 *
 *  - steady-state traffic per node (wire bytes/s sent) at several fleet sizes;
 *  - with 1 ms links and 1 % loss: time for a policy pushed into one node to reach 99.99 % of
 *    nodes, and from a manager's crash to 99 % of nodes holding the new assignment;
 *  - wall time per simulated second at each size (and how far a 1,000-node run gets within a
 *    wall-time budget).
 *
 * Sizes: BENCH_SIM_SIZES (default "10,100,300"; a full measurement at 1,000 would not finish).
 * The 1,000-node attempt runs in a child process (scripts/bench/sim-big-attempt.ts) killed after
 * BENCH_SIM_BIG_BUDGET_S wall seconds (default 300; 0 skips it); a 10,000-node attempt the same way
 * after BENCH_SIM_HUGE_BUDGET_S (default 0: skipped).
 */
import '../src/shim/index.js';
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { reexec } from '../src/cli/reexec.js';
import { hasSimNodeFlags, SIM_NODE_FLAGS } from '../simulations/fleet/node-flags.js';
import type { SimFleet } from '../simulations/fleet/sim-fleet.js';
import { writeSection } from './bench/markdown-section.js';
import { ATTEMPT_VIRTUAL_MS, BENCH_POLICY as POLICY, BOOT_SPREAD_MS, bootStaggered, makeBenchFleet as makeFleet, POLICY_PHASE_MS, type AttemptProgress } from './bench/sim-bench-fleet.js';

interface SizeResult {
  n: number;
  bootWallS: number;
  policyTo9999Ms: number | undefined;
  failureTo99Ms: number | undefined;
  bytesPerNodePerSec: number;
  msgsPerNodePerSec: number;
  wallPerVirtualS: number;
  rssMB: number;
}

/** Runs in 10 ms steps until `done()` or `maxMs` of virtual time; returns the time it took. */
async function until(fleet: SimFleet, done: () => boolean, maxMs: number, stepMs = 10): Promise<number | undefined> {
  const start = fleet.now;
  while (!done()) {
    if (fleet.now - start > maxMs) return undefined;
    await fleet.runUntil(fleet.now + stepMs);
  }
  return fleet.now - start;
}

async function measure(n: number): Promise<SizeResult> {
  const fleet = makeFleet(n, 1);
  const t0 = performance.now();
  await bootStaggered(fleet, n);
  const bootWallS = (performance.now() - t0) / 1000;
  const live = (): number => fleet.liveNodes().length;
  // Policy pushed into one node → 99.99 % of nodes have it active.
  fleet.applyPolicy('n' + '1'.padStart(Math.max(2, String(n).length), '0'), POLICY);
  const need9999 = Math.ceil(0.9999 * n);
  const policyTo9999Ms = await until(fleet, () => fleet.liveNodes().filter((x) => x.node!.policies.active() !== undefined).length >= need9999, 60_000);
  // Let roles settle, then steady-state traffic over 20 virtual seconds.
  await until(fleet, () => fleet.liveNodes().every((x) => x.node!.roles.snapshot().role !== null), 120_000, 250);
  await fleet.runUntil(fleet.now + 15_000);
  const before = fleet.world.network.totals();
  const w0 = performance.now();
  const v0 = fleet.now;
  await fleet.runUntil(fleet.now + 20_000);
  const after = fleet.world.network.totals();
  const wallPerVirtualS = (performance.now() - w0) / 1000 / ((fleet.now - v0) / 1000);
  const bytesPerNodePerSec = (after.wireBytesOut - before.wireBytesOut) / n / 20;
  const msgsPerNodePerSec = (after.wireMessagesOut - before.wireMessagesOut) / n / 20;
  // A manager crashes → 99 % of live nodes' own evaluation no longer seats it.
  const manager = fleet.liveNodes()[0]!.node!.roles.snapshot().assignment?.managers[0];
  let failureTo99Ms: number | undefined;
  if (manager !== undefined) {
    fleet.crash(manager);
    const need99 = Math.ceil(0.99 * live());
    failureTo99Ms = await until(fleet, () => fleet.liveNodes().filter((x) => x.node!.roles.snapshot().assignment?.managers.includes(manager) === false).length >= need99, 120_000, 50);
  }
  const rssMB = process.memoryUsage().rss / 1e6;
  await fleet.stopAll();
  return { n, bootWallS, policyTo9999Ms, failureTo99Ms, bytesPerNodePerSec, msgsPerNodePerSec, wallPerVirtualS, rssMB };
}

/**
 * How far a big fleet gets within a wall-time budget: run in a child process
 * (scripts/bench/sim-big-attempt.ts) that reports progress after every step and is killed at the
 * budget, so one slow step cannot stretch it. Undefined when the child reported nothing.
 */
async function attempt(n: number, budgetS: number): Promise<(AttemptProgress & { finished: boolean }) | undefined> {
  const child = spawn(process.execPath, [...SIM_NODE_FLAGS, new URL('./bench/sim-big-attempt.js', import.meta.url).pathname, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last: AttemptProgress | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      last = JSON.parse(line) as AttemptProgress;
    } catch {
      console.error(`sim-big-attempt printed a line that is not progress: ${line}`);
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), budgetS * 1000);
  await new Promise<void>((resolve) => child.on('close', () => resolve()));
  clearTimeout(killer);
  return last === undefined ? undefined : { ...last, finished: last.virtualS * 1000 >= ATTEMPT_VIRTUAL_MS };
}

// The fleets are measured with the V8 flags `pace sim` runs them with.
if (!hasSimNodeFlags()) process.exit(await reexec(SIM_NODE_FLAGS));

const sizes = (process.env.BENCH_SIM_SIZES ?? '10,100,300').split(',').filter((s) => s.trim() !== '').map(Number);
const bigBudget = Number(process.env.BENCH_SIM_BIG_BUDGET_S ?? 300);
const results: SizeResult[] = [];
for (const n of sizes) {
  const r = await measure(n);
  console.log(JSON.stringify(r));
  results.push(r);
}
const bigAttempted = bigBudget > 0;
const big = bigAttempted ? await attempt(1_000, bigBudget) : undefined;
if (big) console.log(JSON.stringify(big));
const hugeBudget = Number(process.env.BENCH_SIM_HUGE_BUDGET_S ?? 0);
const huge = hugeBudget > 0 ? await attempt(10_000, hugeBudget) : undefined;
if (huge) console.log(JSON.stringify(huge));
const hugeLine =
  hugeBudget <= 0
    ? '10,000 nodes: not attempted in this run (BENCH_SIM_HUGE_BUDGET_S=0).'
    : huge === undefined
      ? `10,000 nodes: the run reported no progress within a ${hugeBudget} s wall budget.`
      : huge.finished
        ? `10,000 nodes × 10 simulated minutes: ${huge.wallS.toFixed(0)} s wall; RSS ${huge.rssMB.toFixed(0)} MB.`
        : `10,000 nodes: within a ${hugeBudget} s wall budget ${huge.started} of the ${huge.n} nodes had started and the run reached ${huge.virtualS.toFixed(1)} s of virtual time (RSS ${huge.rssMB.toFixed(0)} MB) — it does not run at this scale on this machine.`;

const ms = (x: number | undefined): string => (x === undefined ? 'not reached' : `${(x / 1000).toFixed(2)} s`);

/** Where a finished attempt's wall time went: the start, the policy's phase, the settled rest. */
function phases(p: AttemptProgress): string {
  if (p.bootWallS === null || p.policyWallS === null) return '';
  const settledVirtualS = p.virtualS - (BOOT_SPREAD_MS + 2_000) / 1000 - POLICY_PHASE_MS / 1000;
  const settledWallS = p.wallS - p.bootWallS - p.policyWallS;
  return (
    `Of that, ${p.bootWallS.toFixed(0)} s for the first 12 simulated seconds (starts spread over 10 s), ${p.policyWallS.toFixed(0)} s for the ${POLICY_PHASE_MS / 1000} simulated seconds after the policy push ` +
    `(every node records its role; the control plane forms), and ${settledWallS.toFixed(0)} s for the settled fleet's remaining ${settledVirtualS.toFixed(0)} simulated seconds ` +
    `(${((settledWallS / settledVirtualS) * 1000).toFixed(0)} ms of wall per simulated second).`
  );
}
const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
const lines = [
  '## Simulator (issue 5)',
  '',
  `Measured by \`npm run bench:sim\` (scripts/bench-sim.ts) on ${machine}. Whole \`createNode()\` nodes on the simulated`,
  'network, LAN membership profile (1 s probes), 1 ms links without jitter, 1 % loss, policy `policies/site-ha.yaml`,',
  'seed 1. Times are virtual (simulated) unless marked wall.',
  '',
  '| nodes | policy push → 99.99 % of nodes (sampled every 10 ms) | manager crash → 99 % hold the new assignment | steady traffic per node (sent) | wall per simulated second (steady) | boot wall (12 s virtual, starts spread over 10 s) | RSS |',
  '|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map((r) => `| ${r.n} | ${ms(r.policyTo9999Ms)} | ${ms(r.failureTo99Ms)} | ${r.bytesPerNodePerSec.toFixed(0)} B/s, ${r.msgsPerNodePerSec.toFixed(1)} msg/s | ${(r.wallPerVirtualS * 1000).toFixed(0)} ms | ${r.bootWallS.toFixed(1)} s | ${r.rssMB.toFixed(0)} MB |`),
  '',
  !bigAttempted
    ? '1,000 nodes × 10 simulated minutes: not attempted in this run (BENCH_SIM_BIG_BUDGET_S=0).'
    : big === undefined
      ? `1,000 nodes × 10 simulated minutes (goal ≤ 60 s wall): **not met** — the run reported no progress within a ${bigBudget} s wall budget.`
      : big.finished
        ? `1,000 nodes × 10 simulated minutes (goal ≤ 60 s wall): **${big.wallS <= 60 ? 'met' : 'not met'}** — ${big.wallS.toFixed(0)} s wall; RSS ${big.rssMB.toFixed(0)} MB. ${phases(big)}`
        : `1,000 nodes × 10 simulated minutes (goal ≤ 60 s wall): **not met**. Within a ${bigBudget} s wall budget ${big.started} of the ${big.n} nodes had started and the run reached ${big.virtualS.toFixed(1)} s of virtual time (last progress at ${big.wallS.toFixed(0)} s wall${big.bootWallS === null ? '' : `, the first 12 simulated seconds in ${big.bootWallS.toFixed(0)} s`}; RSS ${big.rssMB.toFixed(0)} MB).`,
  '',
  hugeLine,
  '',
  'Comparison points: HashiCorp Serf\'s convergence simulator gives 2.2 s for a message to reach 99.99 % of',
  '1,000 nodes; memberlist\'s defaults take ~15 s from a failure to 99 % of nodes knowing. See docs/SIMULATION.md',
  '("Where the time goes") for the profile behind the wall times.',
];
writeSection('docs/BENCHMARKS.md', 'sim', lines.join('\n'));
console.log('wrote docs/BENCHMARKS.md (bench:sim section)');
