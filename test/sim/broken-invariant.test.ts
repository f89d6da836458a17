/**
 * The checkers can fail: with the quorum gate disabled (a TEST ONLY hook, reachable through
 * a hidden flag so the printed replay command carries it), the 3|2 partition scenario makes the
 * minority side change the control plane, the split-brain checker reports it with the
 * simulated time, `pace sim run` exits 6, and the printed replay command reproduces exactly the
 * same violations. Also: a seed replays to the same trace hash (--check-determinism).
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run } from '../../src/cli/main.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

async function cli(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await run(args, { stdout: (l) => lines.push(l), stderr: (l) => lines.push(l) });
  return { code, lines };
}

describe('A deliberately broken invariant is caught', () => {
  it('no quorum gate: the split-brain checker fires, exit 6, and the replay command reproduces it', async () => {
    const first = await cli(['sim', 'run', 'simulations/scenarios/partition-3-2.yaml', '--seed', '11', '--test-only-disable-quorum-gate']);
    assert.equal(first.code, ExitCode.invariantViolated);
    const violations = first.lines.filter((l) => l.startsWith('  [split-brain] at '));
    assert.ok(violations.length > 0, first.lines.join('\n'));
    assert.ok(violations.some((l) => /minority control-plane change/.test(l)), violations.join('\n'));
    const replay = first.lines.find((l) => l.startsWith('replay: '));
    assert.equal(replay, 'replay: pace sim run simulations/scenarios/partition-3-2.yaml --seed 11 --test-only-disable-quorum-gate');
    const again = await cli(replay!.slice('replay: pace '.length).split(' '));
    assert.equal(again.code, ExitCode.invariantViolated);
    assert.deepEqual(again.lines.filter((l) => l.startsWith('  [')), first.lines.filter((l) => l.startsWith('  [')));
    const hash = (lines: string[]): string | undefined => lines.find((l) => l.includes('trace:'))?.split('hash ')[1];
    assert.equal(hash(again.lines), hash(first.lines));
  });

  it('the same scenario and seed with the gate in place passes', async () => {
    const ok = await cli(['sim', 'run', 'simulations/scenarios/partition-3-2.yaml', '--seed', '11']);
    assert.equal(ok.code, ExitCode.ok, ok.lines.join('\n'));
  });

  it('--check-determinism: a seed replays to the same trace hash', async () => {
    const r = await cli(['sim', 'run', 'simulations/scenarios/cold-start.yaml', '--seed', '5', '--check-determinism']);
    assert.equal(r.code, ExitCode.ok, r.lines.join('\n'));
    assert.ok(r.lines.some((l) => l.includes('(replayed: identical)')));
  });
});
