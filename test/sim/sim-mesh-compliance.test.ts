/** The shared Mesh compliance suite, run against the simulated mesh in virtual time. */
import '../../src/shim/index.js';
import { runMeshComplianceSuite, type MeshFleet, type MeshFleetOptions } from '../mesh/mesh-compliance.js';
import { createSimWorld } from '../../simulations/harness/world.js';
import { nodeId } from './support/fleet.js';

/** Virtual time `waitFor` allows a condition before it fails. */
const WAIT_DEADLINE_MS = 120_000;

async function makeSimFleet(size: number, options: MeshFleetOptions): Promise<MeshFleet> {
  const world = createSimWorld({ seed: `compliance-${size}`, network: { link: { latencyMs: 2, jitterMs: 3 } } });
  const meshes = Array.from({ length: size }, (_, i) => world.network.createMesh(nodeId(i), { maxRequestBytes: options.maxRequestBytes }));
  // The suite awaits mesh calls directly, so virtual time must advance whenever it waits.
  const stopPump = world.scheduler.runInBackground();
  return {
    meshes,
    async waitFor(condition, description) {
      const result = await world.scheduler.runUntil(condition, { deadlineMs: world.scheduler.now() + WAIT_DEADLINE_MS });
      if (result.reason !== 'predicate') {
        throw new Error(`${description}: not reached (${result.reason} at virtual ${result.now} ms, seed ${String(world.seed)})`);
      }
    },
    async close() {
      for (const mesh of meshes) await mesh.stop();
      await stopPump();
    },
  };
}

runMeshComplianceSuite('simulated mesh (SimNetwork, virtual time)', makeSimFleet);
