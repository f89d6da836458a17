/**
 * `pace sim run --logs`: chosen nodes' own log lines, stamped with the virtual time, in the
 * order the nodes wrote them — and a run with logs is the same run (same trace hash).
 */
import '../../src/shim/index.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { run } from '../../src/cli/main.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { loadScenario } from '../../simulations/fleet/scenario.js';
import { runScenario } from '../../simulations/fleet/run-scenario.js';
import { formatNodeLogLine, nodeLogger, SILENT_NODE_LOGGER, type NodeLogLine } from '../../simulations/fleet/node-logs.js';

async function cli(args: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await run(args, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l) });
  return { code, stdout, stderr };
}

describe('Node logs in a simulation', () => {
  it("passes a chosen node's lines at the chosen level with the virtual time, and the run stays the same run", async () => {
    const scenario = loadScenario('simulations/scenarios/manager-failure.yaml');
    const lines: NodeLogLine[] = [];
    const logged = await runScenario(scenario, { logs: { nodes: ['n01', 'n03'], level: 'info', write: (l) => lines.push(l) } });
    const plain = await runScenario(scenario);
    assert.equal(logged.traceHash, plain.traceHash);
    assert.deepEqual(logged.violations, []);

    assert.deepEqual([...new Set(lines.map((l) => l.node))].sort(), ['n01', 'n03']);
    assert.ok(lines.every((l) => l.level !== 'debug'));
    for (let i = 1; i < lines.length; i++) assert.ok(lines[i]!.time >= lines[i - 1]!.time, 'in virtual-time order');
    // The crash of n02 at 40 s: both survivors log the new assignment after it.
    const reassigned = lines.filter((l) => l.msg === 'assignment changed' && l.time > 40_000);
    assert.deepEqual([...new Set(reassigned.map((l) => l.node))].sort(), ['n01', 'n03'], JSON.stringify(lines.map(formatNodeLogLine), null, 1));
    assert.ok(!reassigned.some((l) => (l.fields['managers'] as string[]).includes('n02')));
  });

  it('formats a line with its time, node, level, message and fields; levels below the sink are dropped', () => {
    const lines: NodeLogLine[] = [];
    let now = 160_940;
    const log = nodeLogger('n07', () => now, { nodes: 'all', level: 'warn', write: (l) => lines.push(l) });
    log.info({ node: 'n02' }, 'not kept');
    log.warn({ node: 'n02', cause: new RangeError('too far'), data: new Uint8Array(3) }, 'kept');
    now = 161_000;
    log.error({}, 'also kept');
    assert.deepEqual(lines.map(formatNodeLogLine), [
      '   160.940 s  n07  warn   kept {"node":"n02","cause":"RangeError: too far","data":"<3 bytes>"}',
      '   161.000 s  n07  error  also kept',
    ]);
    assert.equal(nodeLogger('n01', () => 0, { nodes: ['n02'], write: () => assert.fail('n01 is not chosen') }), SILENT_NODE_LOGGER);
    assert.equal(nodeLogger('n01', () => 0, undefined), SILENT_NODE_LOGGER);
  });

  it('pace sim run --logs prints the lines (to stderr with --json) and refuses a node the fleet does not have', async () => {
    const logLines = (lines: string[]): string[] => lines.filter((l) => /^ +\d+\.\d{3} s {2}n\d\d {2}/.test(l));
    const text = await cli(['sim', 'run', 'simulations/scenarios/cold-start.yaml', '--logs', 'n02']);
    assert.equal(text.code, ExitCode.ok, text.stdout.join('\n'));
    assert.ok(logLines(text.stdout).some((l) => / n02 {2}info {3}role changed: none → manager\+worker/.test(l)), text.stdout.join('\n'));
    assert.ok(logLines(text.stdout).every((l) => l.includes(' n02 ')));
    const quiet = await cli(['sim', 'run', 'simulations/scenarios/cold-start.yaml', '--logs', 'n02', '--log-level', 'warn']);
    assert.deepEqual(logLines(quiet.stdout), [], 'a cold start logs nothing at warn or above');

    const json = await cli(['sim', 'run', 'simulations/scenarios/cold-start.yaml', '--logs', 'all', '--json']);
    assert.equal(json.code, ExitCode.ok);
    assert.equal(JSON.parse(json.stdout.join('\n')).ok, true);
    assert.ok(json.stderr.some((l) => l.includes(' n05 ')), 'every node, on stderr');

    const unknown = await cli(['sim', 'run', 'simulations/scenarios/cold-start.yaml', '--logs', 'n01,n09']);
    assert.equal(unknown.code, ExitCode.usage);
    assert.match(unknown.stderr.join('\n'), /--logs 'n01,n09': no node n09 in this fleet \(its nodes are n01 … n05; or give all\)/);
    const empty = await cli(['sim', 'run', 'simulations/scenarios/cold-start.yaml', '--logs', 'n01,']);
    assert.equal(empty.code, ExitCode.usage);
    assert.match(empty.stderr.join('\n'), /--logs 'n01,': an empty node id/);
  });
});
