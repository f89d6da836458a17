#!/usr/bin/env node
// The `pace` command. The TypeScript sources are compiled to dist/ by `npm ci` (prepare).
import '../dist/src/shim/index.js';

if (process.argv[2] === 'sim') {
  // The simulator runs best with its own V8 flags, which take effect only at startup
  // (simulations/fleet/node-flags.ts): run this command again in a process that has them.
  const { SIM_NODE_FLAGS, hasSimNodeFlags } = await import('../dist/simulations/fleet/node-flags.js');
  if (!hasSimNodeFlags()) {
    const { reexec } = await import('../dist/src/cli/reexec.js');
    process.exit(await reexec([...process.execArgv, ...SIM_NODE_FLAGS]));
  }
}
const { main } = await import('../dist/src/cli/main.js');
await main(process.argv.slice(2));
