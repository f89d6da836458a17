/**
 * Child process of `npm run bench:sim`: runs an N-node fleet (default 1,000) for up to 10
 * simulated minutes — started as in the other sizes, the policy applied once all have started —
 * and prints one JSON progress line to stdout after every step. The parent kills it at its wall
 * budget and reports the last line, so a single slow step cannot stretch the budget.
 *
 * Usage: node dist/scripts/bench/sim-big-attempt.js [N]
 */
import '../../src/shim/index.js';
import { performance } from 'node:perf_hooks';
import { fleetIds } from '../../simulations/fleet/run-scenario.js';
import { ATTEMPT_VIRTUAL_MS, BENCH_POLICY, bootStaggered, makeBenchFleet, POLICY_PHASE_MS, type AttemptProgress } from './sim-bench-fleet.js';

const n = Number(process.argv[2] ?? 1_000);
if (!Number.isInteger(n) || n < 1) throw new Error(`sim-big-attempt: fleet size must be a positive integer, got ${process.argv[2]}`);
const fleet = makeBenchFleet(n, 1);
const t0 = performance.now();
let bootWallS: number | null = null;
let policyWallS: number | null = null;
let started = 0;
let lastReport = Number.NEGATIVE_INFINITY;
const report = (force = false): void => {
  const now = performance.now();
  if (!force && now - lastReport < 1_000) return;
  lastReport = now;
  const line: AttemptProgress = { n, started, virtualS: fleet.now / 1000, wallS: (now - t0) / 1000, bootWallS, policyWallS, rssMB: process.memoryUsage().rss / 1e6 };
  process.stdout.write(JSON.stringify(line) + '\n');
};
await bootStaggered(fleet, n, (count) => {
  started = count;
  report();
});
bootWallS = (performance.now() - t0) / 1000;
report(true);
fleet.applyPolicy(fleetIds('n', n)[0]!, BENCH_POLICY);
const policyPhaseEnd = fleet.now + POLICY_PHASE_MS;
while (fleet.now < ATTEMPT_VIRTUAL_MS) {
  await fleet.runUntil(Math.min(fleet.now + 500, fleet.now < policyPhaseEnd ? policyPhaseEnd : Number.POSITIVE_INFINITY));
  if (policyWallS === null && fleet.now >= policyPhaseEnd) policyWallS = (performance.now() - t0) / 1000 - bootWallS;
  report();
}
report(true);
process.exit(0);
