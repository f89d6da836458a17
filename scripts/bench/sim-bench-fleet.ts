/**
 * The simulated fleet `npm run bench:sim` measures (scripts/bench-sim.ts) and the 1,000-node
 * attempt it runs in a child process (scripts/bench/sim-big-attempt.ts): whole `createNode()`
 * nodes, LAN membership profile, 1 ms links without jitter, 1 % loss, seed 1.
 */
import { readFileSync } from 'node:fs';
import { membershipFor } from '../../src/membership/profiles.js';
import { SimFleet } from '../../simulations/fleet/sim-fleet.js';
import { fleetIds } from '../../simulations/fleet/run-scenario.js';

export const BENCH_POLICY = readFileSync('policies/site-ha.yaml', 'utf8');
const MEM = [1024, 2048, 4096, 8192];

/** Virtual time the big-fleet attempt runs for: 10 minutes. */
export const ATTEMPT_VIRTUAL_MS = 600_000;

/** One progress line of the big-fleet attempt (scripts/bench/sim-big-attempt.ts). */
export interface AttemptProgress {
  n: number;
  started: number;
  virtualS: number;
  wallS: number;
  /** Wall seconds for the first 12 virtual seconds, once past them. */
  bootWallS: number | null;
  /** Wall seconds for the POLICY_PHASE_MS of virtual time after the policy push, once past them. */
  policyWallS: number | null;
  rssMB: number;
}

/**
 * Virtual time after the policy push counted as its phase in the big-fleet attempt: the policy
 * spreads, every node waits out its stabilization window (and its share of the role spread) and
 * records its role, and the control plane forms — about 20 s at 1,000 nodes; the rest of the run
 * is the settled fleet.
 */
export const POLICY_PHASE_MS = 30_000;

/** Starts are spread over this much virtual time, as the shipped scenarios' `start.staggerMs`. */
export const BOOT_SPREAD_MS = 10_000;

export function makeBenchFleet(n: number, seed: number): SimFleet {
  const ids = fleetIds('n', n);
  return new SimFleet({
    seed,
    nodes: ids.map((id, i) => ({ id, facts: { cpus: 4, memoryMB: MEM[i % MEM.length]!, diskGB: 32, arch: 'amd64' }, labels: {} })),
    membership: membershipFor('lan'),
    network: { link: { latencyMs: 1, jitterMs: 0, loss: 0.01 } },
    traceRetain: 0,
  });
}

/**
 * Starts the fleet the way a site powers on: node i at i × 10 s / n, then runs to 12 s.
 * `onStep(started)` runs after each start and each step. All nodes in the same millisecond is a
 * worse case (every member record concurrent) that costs the simulator several times more.
 */
export async function bootStaggered(fleet: SimFleet, n: number, onStep: (started: number) => void = () => {}): Promise<void> {
  const ids = fleetIds('n', n);
  for (let i = 0; i < n; i++) {
    await fleet.runUntil(Math.floor((i * BOOT_SPREAD_MS) / n));
    await fleet.start(ids[i]!);
    onStep(i + 1);
  }
  while (fleet.now < BOOT_SPREAD_MS + 2_000) {
    await fleet.runUntil(Math.min(BOOT_SPREAD_MS + 2_000, fleet.now + 250));
    onStep(n);
  }
}
