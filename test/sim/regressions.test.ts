/**
 * Replays every seed that ever failed (simulations/regressions.yaml); each must now pass
 * every checker.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadScenario } from '../../simulations/fleet/scenario.js';
import { runScenario } from '../../simulations/fleet/run-scenario.js';

interface Pinned {
  scenario: string;
  seed: number;
  nodes?: number;
  failed: string;
}

const pinned = parse(readFileSync('simulations/regressions.yaml', 'utf8')) as Pinned[];

describe('Pinned regression seeds', () => {
  it('the file lists at least one seed, each with what failed', () => {
    assert.ok(pinned.length > 0);
    for (const p of pinned) assert.ok(typeof p.scenario === 'string' && Number.isSafeInteger(p.seed) && typeof p.failed === 'string' && p.failed.length > 0, JSON.stringify(p));
  });
  for (const p of pinned) {
    it(`${p.scenario} seed ${p.seed}${p.nodes === undefined ? '' : ` (${p.nodes} nodes)`} passes every checker`, async () => {
      const report = await runScenario(loadScenario(p.scenario), { seed: p.seed, ...(p.nodes === undefined ? {} : { nodes: p.nodes }) });
      assert.deepEqual(report.violations, [], `replay: pace sim run ${p.scenario} --seed ${p.seed} (it once failed: ${p.failed})`);
    });
  }
});
