#!/usr/bin/env node
// The `pace` command. The TypeScript sources are compiled to dist/ by `npm ci` (prepare).
import '../dist/src/shim/index.js';
const { main } = await import('../dist/src/cli/main.js');
await main(process.argv.slice(2));
