/**
 * `--nodes` runs a scenario at another fleet size. Its `expect.managers` and `expect.managerNodes`
 * were written for its own size and give way to the policy's target and choice there (which
 * managers-match-policy checks at every size), instead of reporting a violation that only says
 * the fleet is another size; a fault schedule that grows with the fleet lengthens the run; and a
 * partition written as group sizes keeps its proportions.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadScenario } from '../../simulations/fleet/scenario.js';
import { groupSizesFor, runScenario } from '../../simulations/fleet/run-scenario.js';

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

  it('expects the policy\'s choice of managers, not the nodes named for the scenario\'s own size', async () => {
    const scenario = loadScenario('simulations/scenarios/cold-start.yaml');
    assert.deepEqual(scenario.expect.managerNodes, ['n01', 'n02']);
    assert.equal((await runScenario(scenario)).parameters['expectedManagerNodes'], 'n01, n02');
    // Two nodes: site-ha seats one manager, n01 (the larger); n02 is a worker, as it should be.
    const smaller = await runScenario(scenario, { nodes: 2 });
    assert.deepEqual(smaller.violations, []);
    assert.equal(smaller.parameters['expectedManagerNodes'], "the policy's choice (the scenario's n01, n02 hold at its 5 nodes)");
  });

  it('keeps the time after the last fault when the fault schedule grows with the fleet', async () => {
    // A rolling restart 20 s apart from 40 s: over 5 nodes it ends at 140 s and the run at 200 s;
    // over 9 it ends at 220 s, and the run goes on to 280 s (it used to stop at 200 s and report
    // that the fleet never converged after a fault still in progress).
    const scenario = loadScenario('simulations/scenarios/rolling-restart.yaml');
    assert.equal(scenario.durationMs, 200_000);
    const bigger = await runScenario(scenario, { nodes: 9 });
    assert.equal(bigger.parameters['durationMs'], 280_000);
    assert.equal(bigger.parameters['quietAtMs'], 220_000);
    assert.deepEqual(bigger.violations, []);
  });

  it('splits a partition written as group sizes in the same proportions', async () => {
    assert.deepEqual(groupSizesFor([3, 2], 5), [3, 2]);
    assert.deepEqual(groupSizesFor([3, 2], 7), [4, 3]);
    assert.deepEqual(groupSizesFor([3, 2], 10), [6, 4]);
    assert.deepEqual(groupSizesFor([12, 8], 40), [24, 16]);
    // The majority stays a majority; no group is left empty; remainders go largest first.
    assert.deepEqual(groupSizesFor([3, 2], 4), [3, 1]);
    assert.deepEqual(groupSizesFor([5, 1], 3), [2, 1]);
    assert.deepEqual(groupSizesFor([1, 4], 2), [1, 1]);
    assert.deepEqual(groupSizesFor([1, 1, 1], 4), [2, 1, 1]);
    assert.deepEqual(groupSizesFor([1, 1, 1, 1, 1, 1, 1], 10), [2, 2, 2, 1, 1, 1, 1]);
    // Two nodes cannot hold a majority and a minority: one each.
    assert.deepEqual(groupSizesFor([3, 2], 2), [1, 1]);
    assert.equal(groupSizesFor([1, 1, 1], 2), undefined);
    // It used to crash the harness: the written 3|2 had no room for nodes 6 and 7.
    const scenario = loadScenario('simulations/scenarios/partition-3-2.yaml');
    const bigger = await runScenario(scenario, { nodes: 7 });
    assert.deepEqual(bigger.violations, []);
    const single = await runScenario(scenario, { nodes: 1 });
    assert.deepEqual(single.violations.map((v) => v.details), ['partition: 2 groups need at least 2 nodes; the fleet has 1']);
  });
});
