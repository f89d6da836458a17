/**
 * `--nodes` runs a scenario at another fleet size. Its `expect.managers` was written for its own
 * size and gives way to the policy's target there (which managers-match-policy checks at every
 * size), instead of reporting a violation that only says the fleet is bigger.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadScenario } from '../../simulations/fleet/scenario.js';
import { runScenario } from '../../simulations/fleet/run-scenario.js';

describe('a scenario run at another fleet size', () => {
  it("expects the policy's manager count, not the one written for the scenario's own size", async () => {
    const scenario = loadScenario('simulations/scenarios/manager-failure.yaml');
    assert.equal(scenario.fleet.size, 5);
    assert.equal(scenario.expect.managers, 3);
    const own = await runScenario(scenario);
    assert.deepEqual(own.violations, []);
    assert.equal(own.parameters['expectedManagers'], 3);
    // Eight nodes, all eligible: site-ha asks for five managers (and five again after the crash).
    const bigger = await runScenario(scenario, { nodes: 8 });
    assert.deepEqual(bigger.violations, []);
    assert.equal(bigger.parameters['expectedManagers'], "the policy target (the scenario's 3 holds at its 5 nodes)");
    const managers = bigger.timeline.at(-1)?.roles;
    assert.ok(managers !== undefined && (managers['manager+worker'] ?? 0) + (managers['manager'] ?? 0) === 5, JSON.stringify(managers));
  });
});
