/**
 * The fake drivers keep the control-plane software's own member list (FakeControlPlane), and the
 * fleet's convergence requires it to be the control plane PACE recorded: a fleet whose etcd
 * cluster lists other members than its document says has not converged, whatever the documents
 * agree on.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { convergence, recordedControlPlane } from '../../simulations/checkers/fleet-view.js';
import { SimFleet } from '../../simulations/fleet/sim-fleet.js';

const POLICY = readFileSync('policies/site-ha.yaml', 'utf8');

async function settledFleet(size: number): Promise<SimFleet> {
  const nodes = Array.from({ length: size }, (_, i) => ({ id: `n${i + 1}`, facts: { cpus: 4, memoryMB: 8192 - i * 1024, diskGB: 64, arch: 'amd64' }, labels: {} }));
  const fleet = new SimFleet({ seed: 7, nodes });
  await fleet.startAll();
  fleet.applyPolicy('n1', POLICY);
  await fleet.runUntil(40_000);
  return fleet;
}

describe('The control-plane software in a simulated fleet', () => {
  it('lists exactly the recorded control plane once the fleet has converged, all in one cluster', async () => {
    const fleet = await settledFleet(4);
    const state = convergence(fleet);
    assert.equal(state.converged, true, state.reason);
    const recorded = recordedControlPlane(fleet.get('n1').node!);
    assert.equal(recorded.length, 3);
    const clusters = new Set(recorded.map((id) => fleet.get(id).driverDisk.cluster));
    assert.deepEqual([...clusters], [1], 'one cluster, bootstrapped once');
    assert.deepEqual(fleet.controlPlane.members(1), [...recorded].sort());
    await fleet.stopAll();
  });

  it('a fleet whose software lists other members than its document has not converged', async () => {
    const fleet = await settledFleet(4);
    const recorded = recordedControlPlane(fleet.get('n1').node!);
    fleet.controlPlane.leave(1, recorded[2]!);
    const state = convergence(fleet);
    assert.equal(state.converged, false);
    assert.equal(state.reason, `the control-plane software lists [${recorded.slice(0, 2).sort().join(', ')}] as members, PACE recorded [${recorded.join(', ')}]`);
    fleet.controlPlane.join(1, recorded[2]!);
    fleet.get(recorded[1]!).driverDisk.memberData = false;
    assert.equal(convergence(fleet).reason, `${recorded[1]} is in the recorded control plane but holds no member data`);
    await fleet.stopAll();
  });
});
