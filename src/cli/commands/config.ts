/** `pace config print`: the agent's merged configuration and where each value came from. */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { configFileFrom, loadAgentConfig } from '../../config/agent-config.js';
import { configPrintJson, printableConfig, sourceRows } from '../../config/print.js';
import { formatProblem } from '../../config/sources.js';
import { addConfigFlags } from '../config-flags.js';
import { CliError, ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { renderTable } from '../table.js';

export function registerConfigCommands(program: Command, out: Output, env: NodeJS.ProcessEnv = process.env): void {
  const config = program.command('config').description('inspect the agent configuration');
  const print = config
    .command('print')
    .description('print the merged agent config: defaults < config file < PACE_* environment < flags')
    .option('--json', 'print JSON instead of YAML')
    .option('--sources', 'show which source set each value')
    .addHelpText('after', '\nSecrets are never printed: for the network key only its path is shown.\nSee docs/CONFIG.md for every option.\n\nExit codes: 0 ok, 2 config problem (every problem is listed).');
  const readFlags = addConfigFlags(print);
  print.action(async (opts: Record<string, unknown>) => {
    const { configFile, flags } = readFlags(opts);
    const file = configFileFrom(configFile, env);
    const result = await loadAgentConfig({ ...(file === undefined ? {} : { configFile: file }), env, flags });
    if (!result.ok) throw new CliError(ExitCode.usage, 'invalid configuration:', result.problems.map(formatProblem));
    const withSources = opts.sources === true;
    if (opts.json === true) {
      out.stdout(JSON.stringify(configPrintJson(result.resolved, withSources), null, 2));
      return;
    }
    if (withSources) {
      out.stdout(renderTable(['KEY', 'VALUE', 'SOURCE'], sourceRows(result.resolved)));
      return;
    }
    out.stdout(stringify(printableConfig(result.resolved)).trimEnd());
  });
}
