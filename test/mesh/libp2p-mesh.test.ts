import '../../src/shim/index.js';
import { makeMemoryFleet } from '../support/memory-fleet.js';
import { runMeshComplianceSuite } from './mesh-compliance.js';

runMeshComplianceSuite('libp2p mesh over the memory transport', (size, options) => makeMemoryFleet(size, options));
