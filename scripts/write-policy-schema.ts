/**
 * Writes the published JSON Schema (policies/cluster-policy.schema.json) from src/policy/schema.ts.
 * `--check` only compares and exits 1 when the published file is stale (run by `npm test`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { policySchema } from '../src/policy/schema.js';
import { packageRoot } from '../src/cli/package-info.js';

const target = join(packageRoot(), 'policies', 'cluster-policy.schema.json');
const wanted = `${JSON.stringify(policySchema, null, 2)}\n`;

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== wanted) {
    console.error(`${target} is out of date with src/policy/schema.ts: run \`npm run build && npm run schema\``);
    process.exitCode = 1;
  } else {
    console.log(`ok: ${target} is current`);
  }
} else {
  writeFileSync(target, wanted);
  console.log(`wrote ${target}`);
}
