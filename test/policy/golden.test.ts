/**
 * Golden tests: every shipped policy in policies/ is evaluated over the fleets in
 * test/golden/<policy>--<case>.members.json and must produce <policy>--<case>.plan.json exactly
 * (roles and reasons). Regenerate after an intended change with PACE_UPDATE_GOLDEN=1, then
 * read the diff: it is the behaviour change under review.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/policy/evaluate.js';
import { loadPolicyFile, readMembersFile } from '../../src/cli/policy-files.js';
import { toPlanJson } from '../../src/cli/commands/policy.js';
import { packageRoot } from '../../src/cli/package-info.js';

const root = packageRoot();
const goldenDir = join(root, 'test', 'golden');
const policies = readdirSync(join(root, 'policies')).filter((f) => f.endsWith('.yaml'));
const cases = readdirSync(goldenDir).filter((f) => f.endsWith('.members.json'));

test('every shipped policy has at least one golden case', () => {
  for (const file of policies) {
    const name = file.replace(/\.yaml$/, '');
    assert.ok(cases.some((c) => c.startsWith(`${name}--`)), `no golden case for policies/${file}`);
  }
});

for (const membersFile of cases) {
  const [policyName] = membersFile.split('--');
  test(`golden: ${membersFile.replace('.members.json', '')}`, async () => {
    const loaded = await loadPolicyFile(join(root, 'policies', `${policyName}.yaml`));
    assert.ok(loaded.ok, `policies/${policyName}.yaml must be valid`);
    const plan = toPlanJson(evaluate(loaded.policy, { members: await readMembersFile(join(goldenDir, membersFile)) }));
    const expectedFile = join(goldenDir, membersFile.replace('.members.json', '.plan.json'));
    const actual = `${JSON.stringify(plan, null, 2)}\n`;
    if (process.env.PACE_UPDATE_GOLDEN === '1' || !existsSync(expectedFile)) {
      if (process.env.PACE_UPDATE_GOLDEN !== '1') assert.fail(`missing ${expectedFile}; run with PACE_UPDATE_GOLDEN=1 and review it`);
      writeFileSync(expectedFile, actual);
      return;
    }
    assert.equal(actual, readFileSync(expectedFile, 'utf8'));
  });
}

test('every shipped policy passes its own checks', async () => {
  for (const file of policies) {
    const result = await loadPolicyFile(join(root, 'policies', file));
    assert.ok(result.ok, `${file}: ${result.ok ? '' : JSON.stringify(result.diagnostics)}`);
  }
});
