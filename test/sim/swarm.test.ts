/**
 * A bounded swarm of FRESH seeds (different on every run, printed so a failure can be
 * replayed and pinned in simulations/regressions.yaml), through `pace sim swarm`: small fleets,
 * short scenarios, both cores.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { run } from '../../src/cli/main.js';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await run(args, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

describe('pace sim swarm (fresh seeds)', () => {
  for (const [scenario, seeds] of [['simulations/scenarios/cold-start.yaml', 4], ['simulations/scenarios/manager-failure.yaml', 2], ['simulations/scenarios/lossy-flat-broadcast.yaml', 2], ['simulations/scenarios/heavy-loss.yaml', 2]] as const) {
    it(`${scenario}: ${seeds} fresh seeds pass every checker`, async () => {
      const from = randomInt(1, 1_000_000_000);
      console.log(`swarm ${scenario}: seeds ${from}..${from + seeds - 1}`);
      const r = await cli(['sim', 'swarm', scenario, '--seeds', String(seeds), '--from', String(from), '--jobs', '2', '--json']);
      const result = JSON.parse(r.stdout) as { seeds: number; failing: { seed: number; replay: string }[] };
      assert.equal(result.seeds, seeds);
      assert.deepEqual(result.failing, [], `failing seeds — pin them in simulations/regressions.yaml: ${r.stdout}`);
      assert.equal(r.code, 0);
    });
  }
});
