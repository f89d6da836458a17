/**
 * `pace sim run SCENARIO` and `pace sim swarm SCENARIO`: the deterministic fleet simulator
 * (simulations/, docs/SIMULATION.md). The simulation code is loaded only when a sim command runs
 * (compiled to dist/simulations/, imported relative to this file).
 *
 * Exit codes: 0 every checker held; 2 bad usage or a bad scenario file (file:line: field:
 * problem); 6 an invariant was violated (or a seed did not replay identically); 1 internal.
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { SIM_NODE_FLAGS } from '../../../simulations/fleet/node-flags.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';

import type * as RunModule from '../../../simulations/fleet/run-scenario.js';
import type * as ScenarioModule from '../../../simulations/fleet/scenario.js';
import type * as ReportModule from '../../../simulations/fleet/report.js';
import type { RunReport } from '../../../simulations/fleet/run-scenario.js';
import type { Scenario } from '../../../simulations/fleet/scenario.js';
import { formatNodeLogLine, NODE_LOG_LEVELS, type NodeLogLevel, type NodeLogSink } from '../../../simulations/fleet/node-logs.js';

/** The simulator, loaded only when a sim command runs (type imports above are erased). */
async function loadSim(): Promise<{ run: typeof RunModule; scenario: typeof ScenarioModule; report: typeof ReportModule }> {
  const [run, scenario, report] = await Promise.all([
    import('../../../simulations/fleet/run-scenario.js'),
    import('../../../simulations/fleet/scenario.js'),
    import('../../../simulations/fleet/report.js'),
  ]);
  return { run, scenario, report };
}

function positiveInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 0) throw new CliError(ExitCode.usage, `${name} must be a whole number >= 0, got '${value}'`);
    return n;
  };
}

/** Hidden flag: TEST ONLY, breaks the quorum gate so tests can prove the split-brain checker fires. */
export const DISABLE_QUORUM_GATE_FLAG = '--test-only-disable-quorum-gate';

/** The command that replays one run exactly. */
export function replayCommand(file: string, seed: number, nodes?: number, brokenGate = false): string {
  return `pace sim run ${file} --seed ${seed}${nodes === undefined ? '' : ` --nodes ${nodes}`}${brokenGate ? ` ${DISABLE_QUORUM_GATE_FLAG}` : ''}`;
}

/** What `sim run --json` prints (also what `sim swarm` reads from its workers). */
export interface SimRunJson {
  scenario: string;
  file: string;
  seed: number;
  nodes: number;
  ok: boolean;
  parameters: RunReport['parameters'];
  violations: RunReport['violations'];
  metrics: RunReport['metrics'];
  traceHash: string;
  /** Set by --check-determinism: the second run's hash. */
  replayTraceHash?: string;
  replay: string;
}

async function loadScenarioOrUsage(file: string): Promise<{ sim: Awaited<ReturnType<typeof loadSim>>; scenario: Scenario }> {
  const sim = await loadSim();
  try {
    return { sim, scenario: sim.scenario.loadScenario(file) };
  } catch (err) {
    if (err instanceof sim.scenario.ScenarioError) throw new CliError(ExitCode.usage, err.message);
    throw err;
  }
}

/** `--logs`: `all`, or node ids separated by commas, each of which must be in the fleet. */
function logNodes(value: string, ids: readonly string[]): 'all' | string[] {
  if (value.trim() === 'all') return 'all';
  const wanted = value.split(',').map((id) => id.trim());
  const unknown = wanted.filter((id) => !ids.includes(id));
  if (unknown.length > 0) {
    const what = unknown.includes('') ? 'an empty node id' : `no node ${unknown.join(', ')} in this fleet`;
    throw new CliError(ExitCode.usage, `--logs '${value}': ${what} (its nodes are ${ids[0]} … ${ids.at(-1)}; or give all)`);
  }
  return wanted;
}

function fmtSeconds(ms: number | undefined): string {
  return ms === undefined ? 'never' : `${(ms / 1000).toFixed(2)} s`;
}

export function registerSimCommands(program: Command, out: Output): void {
  const sim = program.command('sim').description('run the deterministic fleet simulator (docs/SIMULATION.md)');

  sim
    .command('run')
    .description('run one scenario with one seed and check every invariant')
    .argument('<scenario>', 'scenario file (simulations/scenarios/*.yaml)')
    .option('--seed <n>', 'seed (default: the scenario\'s)', positiveInt('--seed'))
    .option('--nodes <n>', 'fleet size (default: the scenario\'s)', positiveInt('--nodes'))
    .option('--check-determinism', 'run the seed twice and compare the trace hashes')
    .option('--report <dir>', 'write report.json and a self-contained report.html into DIR')
    .option('--json', 'print JSON instead of text')
    .option('--logs <nodes>', "print these nodes' own log lines as they happen, stamped with the virtual time: ids separated by commas, or all (to stderr with --json)")
    .addOption(new Option('--log-level <level>', 'the lowest level --logs prints').choices(NODE_LOG_LEVELS).default('info'))
    .addOption(new Option(DISABLE_QUORUM_GATE_FLAG, 'TEST ONLY: nodes ignore the quorum gate (proves the split-brain checker works)').hideHelp())
    .addHelpText('after', '\nExit codes: 0 every checker held, 2 bad usage or scenario file, 6 an invariant was violated\n(the output names the checker, the simulated time and the command that replays it).')
    .action(async (file: string, opts: { seed?: number; nodes?: number; checkDeterminism?: boolean; report?: string; json?: boolean; logs?: string; logLevel: NodeLogLevel; testOnlyDisableQuorumGate?: boolean }) => {
      const { sim: mod, scenario } = await loadScenarioOrUsage(file);
      if (opts.nodes === 0) throw new CliError(ExitCode.usage, '--nodes must be at least 1');
      const seed = opts.seed ?? scenario.seed;
      const brokenGate = opts.testOnlyDisableQuorumGate === true;
      const replay = replayCommand(file, seed, opts.nodes, brokenGate);
      const ids = mod.run.fleetIds(scenario.fleet.idPrefix, opts.nodes ?? scenario.fleet.size);
      const logs: NodeLogSink | undefined =
        opts.logs === undefined ? undefined : { nodes: logNodes(opts.logs, ids), level: opts.logLevel, write: (line) => (opts.json ? out.stderr(formatNodeLogLine(line)) : out.stdout(formatNodeLogLine(line))) };
      // A terminal gets one line redrawn per percent; a log (CI, a file) a line per 10 % with
      // the wall time so far, so a long run shows where it is without flooding the log. Node
      // logs show where a run is anyway, and a redrawn line would cut into them.
      const tty = process.stderr.isTTY === true;
      const progress = !opts.json && logs === undefined;
      const step = tty ? 1 : 10;
      let lastStep = -1;
      const onProgress = progress
        ? (now: number, duration: number, wallMs: number): void => {
            const percent = Math.floor((now / duration) * 100);
            if (Math.floor(percent / step) === lastStep) return;
            lastStep = Math.floor(percent / step);
            const line = `[sim] ${(now / 1000).toFixed(1)} s / ${(duration / 1000).toFixed(0)} s virtual (${percent}%), ${(wallMs / 1000).toFixed(1)} s wall`;
            if (tty) process.stderr.write(`\r${line}   `);
            else out.stderr(line);
          }
        : undefined;
      // The replay of --check-determinism runs without logs: they would print twice, and a hash
      // equal to the logged run's also shows that logging changes nothing.
      const runOnce = (withLogs: boolean): Promise<RunReport> =>
        runScenarioExplained(
          () =>
            mod.run.runScenario(scenario, {
              seed,
              ...(opts.nodes === undefined ? {} : { nodes: opts.nodes }),
              ...(onProgress ? { onProgress } : {}),
              ...(brokenGate ? { unsafeTestHooks: { disableQuorumGate: true } } : {}),
              ...(withLogs && logs !== undefined ? { logs } : {}),
            }),
          scenario.fleet.size,
          opts.nodes,
        );
      if (!opts.json) {
        out.stdout(`scenario: ${scenario.name} (${file})`);
        out.stdout(`seed: ${seed}`);
        if (brokenGate) out.stdout('WARNING: the quorum gate is disabled (test only): split brain is expected');
      }
      const report = await runOnce(true);
      if (progress && tty) process.stderr.write('\r\x1b[K');
      let replayHash: string | undefined;
      if (opts.checkDeterminism) {
        lastStep = -1;
        replayHash = (await runOnce(false)).traceHash;
        if (progress && tty) process.stderr.write('\r\x1b[K');
        if (replayHash !== report.traceHash) {
          report.violations.push({ checker: 'determinism', time: report.metrics.virtualMs, details: `the same seed gave two different traces: ${report.traceHash} then ${replayHash}` });
        }
      }
      if (opts.report !== undefined) {
        const paths = await mod.report.writeReport(opts.report, report, replay);
        if (!opts.json) out.stdout(`report: ${paths.html} (and ${paths.json})`);
      }
      const ok = report.violations.length === 0;
      if (opts.json) {
        const json: SimRunJson = {
          scenario: report.scenario,
          file,
          seed,
          nodes: report.nodes,
          ok,
          parameters: report.parameters,
          violations: report.violations,
          metrics: report.metrics,
          traceHash: report.traceHash,
          ...(replayHash === undefined ? {} : { replayTraceHash: replayHash }),
          replay,
        };
        out.stdout(JSON.stringify(json, null, 2));
      } else {
        out.stdout('parameters:');
        for (const [k, v] of Object.entries(report.parameters)) out.stdout(`  ${k}: ${v}`);
        const m = report.metrics;
        out.stdout('summary:');
        out.stdout(`  first converged:        ${fmtSeconds(m.firstConvergedMs)}`);
        out.stdout(`  converged after faults: ${fmtSeconds(m.timeToConvergeMs)} after the last fault at ${fmtSeconds(m.quietAtMs)} (bound ${fmtSeconds(scenario.expect.convergeWithinMs)})`);
        for (const r of m.reassignments) out.stdout(`  failure → reassignment: ${r.node} crashed at ${fmtSeconds(r.crashedAt)}, new assignment everywhere after ${fmtSeconds(r.ms)}`);
        out.stdout(`  traffic per node:       ${m.messagesPerNodePerSec} messages/s, ${m.bytesPerNodePerSec} bytes/s`);
        out.stdout(`  role changes:           ${m.roleChanges} (plus ${m.firstRoles} first roles)`);
        out.stdout(`  trace:                  ${m.traceEvents} events, hash ${report.traceHash}${replayHash === undefined ? '' : replayHash === report.traceHash ? ' (replayed: identical)' : ` (replayed: DIFFERENT ${replayHash})`}`);
        out.stdout(`  wall time:              ${(m.wallMs / 1000).toFixed(1)} s for ${fmtSeconds(m.virtualMs)} virtual, ${m.schedulerEvents} events`);
        if (ok) {
          out.stdout('result: ok — every checker held');
        } else {
          out.stdout(`result: ${report.violations.length} invariant violation(s)`);
          for (const v of report.violations) out.stdout(`  [${v.checker}] at ${(v.time / 1000).toFixed(3)} s: ${v.details}`);
          out.stdout(`replay: ${replay}`);
          if (logs === undefined) out.stdout('(add --logs all, or --logs ID,ID, to the replay to print what the nodes logged)');
        }
      }
      if (!ok) throw new CliError(ExitCode.invariantViolated, '');
    });

  sim
    .command('swarm')
    .description('run many seeds of one scenario in parallel worker processes and list the failing seeds')
    .argument('<scenario>', 'scenario file (simulations/scenarios/*.yaml)')
    .requiredOption('--seeds <n>', 'how many seeds to run', positiveInt('--seeds'))
    .option('--from <seed>', 'first seed (the others follow it)', positiveInt('--from'), 1)
    .option('--jobs <n>', 'worker processes (default: the number of cores)', positiveInt('--jobs'))
    .option('--nodes <n>', 'fleet size (default: the scenario\'s)', positiveInt('--nodes'))
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', '\nExit codes: 0 every seed passed, 2 bad usage or scenario file, 6 at least one seed violated an invariant.')
    .action(async (file: string, opts: { seeds: number; from: number; jobs?: number; nodes?: number; json?: boolean }) => {
      await loadScenarioOrUsage(file); // validate once, before forking
      const jobs = Math.max(1, opts.jobs ?? availableParallelism());
      const seeds = Array.from({ length: opts.seeds }, (_, i) => opts.from + i);
      const results = await swarm(file, seeds, jobs, opts.nodes, (r) => {
        if (!opts.json) out.stdout(`seed ${r.seed}: ${r.ok ? 'ok' : `FAILED (${r.violations.map((v) => v.checker).join(', ')})`}`);
      });
      const failing = results.filter((r) => !r.ok);
      if (opts.json) {
        out.stdout(JSON.stringify({ scenario: file, seeds: results.length, failing: failing.map((r) => ({ seed: r.seed, violations: r.violations, replay: r.replay })) }, null, 2));
      } else {
        out.stdout(`${results.length} seed(s), ${failing.length} failing${failing.length === 0 ? '' : ':'}`);
        for (const r of failing) {
          const first = r.violations[0];
          out.stdout(`  seed ${r.seed}: [${first?.checker ?? '?'}] at ${((first?.time ?? 0) / 1000).toFixed(3)} s: ${first?.details ?? ''}`);
          out.stdout(`    replay: ${r.replay}`);
        }
      }
      if (failing.length > 0) throw new CliError(ExitCode.invariantViolated, '');
    });
}

/**
 * Runs a scenario, turning Automerge's wasm aborting into an error that says what happened:
 * every simulated node's document lives in one WebAssembly memory, which cannot grow past 4 GiB,
 * and a fleet of about a thousand whole nodes reaches that (docs/SIMULATION.md).
 */
async function runScenarioExplained(run: () => Promise<RunReport>, scenarioSize: number, nodes: number | undefined): Promise<RunReport> {
  // A node's background task (a sync session) that meets the aborted module rejects where no one
  // awaits it: that ends the run here too, explained, instead of killing the process unexplained.
  let onUnhandled: ((reason: unknown) => void) | undefined;
  const unhandled = new Promise<never>((_, reject) => {
    onUnhandled = reject;
  });
  process.on('unhandledRejection', onUnhandled as (reason: unknown) => void);
  try {
    return await Promise.race([run(), unhandled]);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!/Module terminated|unreachable|memory access out of bounds|out of memory/i.test(message)) throw err;
    throw new CliError(
      ExitCode.internal,
      `Automerge's WebAssembly module aborted (${message}) while simulating ${nodes ?? scenarioSize} nodes: most likely its memory, shared by every simulated node's document and limited to 4 GiB, is exhausted. Run fewer nodes (--nodes).`,
    );
  } finally {
    process.off('unhandledRejection', onUnhandled as (reason: unknown) => void);
  }
}

/** Runs `pace sim run FILE --seed S --json` for every seed, `jobs` at a time, in child processes. */
async function swarm(file: string, seeds: number[], jobs: number, nodes: number | undefined, each: (r: SimRunJson) => void): Promise<SimRunJson[]> {
  const bin = fileURLToPath(new URL('../../../../bin/pace.js', import.meta.url));
  const results: SimRunJson[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < seeds.length) {
      const seed = seeds[next++]!;
      const args = ['sim', 'run', file, '--seed', String(seed), '--json', ...(nodes === undefined ? [] : ['--nodes', String(nodes)])];
      const r = await new Promise<SimRunJson>((resolve, reject) => {
        const child = fork(bin, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [...process.execArgv, ...SIM_NODE_FLAGS.filter((f) => !process.execArgv.includes(f))] });
        let stdout = '';
        let stderr = '';
        child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('exit', (code) => {
          try {
            resolve(JSON.parse(stdout) as SimRunJson);
          } catch {
            const violations = [{ checker: 'harness', time: 0, details: `worker exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' / ')}` }];
            resolve({ scenario: file, file, seed, nodes: nodes ?? 0, ok: false, parameters: {}, violations, metrics: {} as RunReport['metrics'], traceHash: '', replay: replayCommand(file, seed, nodes) });
          }
        });
      });
      results.push(r);
      each(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, seeds.length) }, worker));
  return results.sort((a, b) => a.seed - b.seed);
}
