/**
 * Replays every seed that ever failed (simulations/regressions.yaml); each must now pass
 * every checker — under the timings it failed with (an entry's `membership`, when the defaults
 * have changed since: the same run, trace for trace), and under today's.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadScenario, scenarioMembership } from '../../simulations/fleet/scenario.js';
import { runScenario } from '../../simulations/fleet/run-scenario.js';
import type { MembershipProfileName } from '../../src/membership/profiles.js';

interface Pinned {
  scenario: string;
  seed: number;
  nodes?: number;
  /** The membership profile and overrides the run failed with, when they differ from the scenario's today. */
  membership?: { profile?: MembershipProfileName } & Record<string, number | string>;
  failed: string;
}

const pinned = parse(readFileSync('simulations/regressions.yaml', 'utf8')) as Pinned[];

describe('Pinned regression seeds', () => {
  it('the file lists at least one seed, each with what failed', () => {
    assert.ok(pinned.length > 0);
    for (const p of pinned) assert.ok(typeof p.scenario === 'string' && Number.isSafeInteger(p.seed) && typeof p.failed === 'string' && p.failed.length > 0, JSON.stringify(p));
  });
  for (const p of pinned) {
    const size = p.nodes === undefined ? '' : ` (${p.nodes} nodes)`;
    const replay = `pace sim run ${p.scenario} --seed ${p.seed}${p.nodes === undefined ? '' : ` --nodes ${p.nodes}`}`;
    const run = async (membership: Pinned['membership']): Promise<void> => {
      const scenario = loadScenario(p.scenario);
      if (membership !== undefined) {
        const { profile = 'lan', ...overrides } = membership;
        scenario.membership = scenarioMembership(profile, overrides as Record<string, number>);
      }
      const report = await runScenario(scenario, { seed: p.seed, ...(p.nodes === undefined ? {} : { nodes: p.nodes }) });
      const timings = membership === undefined ? '' : ` with the scenario's membership set to ${JSON.stringify(membership)}`;
      assert.deepEqual(report.violations, [], `replay: ${replay}${timings} (it once failed: ${p.failed})`);
    };
    if (p.membership !== undefined) it(`${p.scenario} seed ${p.seed}${size} passes every checker under the timings it failed with`, () => run(p.membership));
    it(`${p.scenario} seed ${p.seed}${size} passes every checker under today's timings`, () => run(undefined));
  }
});
