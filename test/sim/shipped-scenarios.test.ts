/**
 * Every shipped scenario passes every checker with its own seed — the simulator's "done when",
 * kept true by `npm test`. The 1,000-node `large-fleet-lossy` is replayed at 300 nodes by the
 * regressions (simulations/regressions.yaml); its full size takes minutes and runs by hand.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadScenario } from '../../simulations/fleet/scenario.js';
import { runScenario } from '../../simulations/fleet/run-scenario.js';

/** Larger fleets than this are left to the regressions and to runs by hand. */
const MAX_FLEET = 100;

describe('shipped scenarios', () => {
  const files = readdirSync('simulations/scenarios').filter((f) => f.endsWith('.yaml')).sort();
  for (const file of files) {
    const scenario = loadScenario(`simulations/scenarios/${file}`);
    if (scenario.fleet.size > MAX_FLEET) continue;
    it(`${file} passes every checker with its seed (${scenario.seed})`, async () => {
      const report = await runScenario(scenario);
      assert.deepEqual(report.violations, [], `replay: pace sim run simulations/scenarios/${file} --seed ${scenario.seed} --logs all`);
    });
  }
});
