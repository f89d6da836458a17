/**
 * `pace sim` as a user starts it: bin/pace.js runs the command again in a process with the
 * simulator's V8 flags (simulations/fleet/node-flags.ts, src/cli/reexec.ts). Its output, exit code
 * and signals must pass through that second process unchanged.
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SIM_NODE_FLAGS } from '../../simulations/fleet/node-flags.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = `${root}bin/pace.js`;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function pace(args: string[], onSpawn: (pid: number) => void = () => undefined): Promise<Finished> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  onSpawn(child.pid as number);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Ids of `pid`'s child processes (Linux). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function commandLineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('pace sim in its own process', () => {
  it('runs a scenario with the simulator flags and passes its output and exit code through', async () => {
    const ok = await pace(['sim', 'run', 'simulations/scenarios/cold-start.yaml', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(ok.stdout) as { ok: boolean; scenario: string };
    assert.equal(report.ok, true);
    assert.equal(report.scenario, 'cold-start');
    const bad = await pace(['sim', 'run', 'simulations/scenarios/no-such-scenario.yaml']);
    assert.equal(bad.code, 2, 'a usage error keeps its exit code');
    assert.match(bad.stderr, /no-such-scenario\.yaml/);
  });

  it('stops the simulating process when the one the user started is stopped', async () => {
    let parent = 0;
    const finished = pace(['sim', 'run', 'simulations/scenarios/large-fleet-lossy.yaml', '--nodes', '200'], (pid) => (parent = pid));
    // A child shows up in /proc at fork, still running pace's own command line; wait until it
    // has executed the simulating command.
    let simulating: number[] = [];
    let argv: string[] = [];
    for (let i = 0; i < 200 && !SIM_NODE_FLAGS.every((flag) => argv.includes(flag)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      simulating = childrenOf(parent);
      argv = simulating.length === 1 ? commandLineOf(simulating[0]!) : [];
    }
    assert.equal(simulating.length, 1, 'pace started one simulating process');
    for (const flag of SIM_NODE_FLAGS) assert.ok(argv.includes(flag), `the simulating process runs with ${flag}`);
    process.kill(parent, 'SIGTERM');
    const result = await finished;
    assert.equal(result.code, 128 + 15, 'exit status of a process ended by SIGTERM');
    for (let i = 0; i < 200 && alive(simulating[0]!); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(alive(simulating[0]!), false, 'the simulating process is gone too');
  });
});
