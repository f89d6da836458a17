/**
 * `pace agent`: runs the PACE daemon on this device until it is told to stop.
 * SIGINT leaves the cluster gracefully (others re-evaluate at once); SIGTERM stops without
 * leaving (others detect the absence); SIGHUP re-reads the configuration.
 */
import type { Command } from 'commander';
import { configFileFrom, loadAgentConfig } from '../../config/agent-config.js';
import { formatProblem } from '../../config/sources.js';
import { startAgent } from '../../daemon/agent.js';
import { addConfigFlags } from '../config-flags.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { packageVersion } from '../package-info.js';

export function registerAgentCommand(program: Command, env: NodeJS.ProcessEnv = process.env): void {
  const agent = program
    .command('agent')
    .description('run the PACE daemon: join the mesh, replicate state, take the role the policy assigns')
    .addHelpText(
      'after',
      `
Configuration: built-in defaults < --config FILE (or PACE_CONFIG) < PACE_* environment < flags.
Every option, its default and its environment variable: docs/CONFIG.md; \`pace config print\`
shows the merged result. Logs are NDJSON (pino) on stdout, one line per event, with the node.

Signals: SIGINT leaves the cluster gracefully and exits 0; SIGTERM stops without leaving and
exits 0; SIGHUP re-reads the configuration (log level, labels, facts, trusted keys).

Exit codes: 0 stopped by a signal, 1 internal error, 2 configuration problem.`,
    );
  const readFlags = addConfigFlags(agent);
  agent.action(async (opts: Record<string, unknown>) => {
    const { configFile, flags } = readFlags(opts);
    const file = configFileFrom(configFile, env);
    const load = () => loadAgentConfig({ ...(file === undefined ? {} : { configFile: file }), env, flags });
    const result = await load();
    if (!result.ok) throw new CliError(ExitCode.usage, 'invalid configuration:', result.problems.map(formatProblem));
    const running = await startAgent(result.resolved, { version: packageVersion() });
    await new Promise<void>((resolve) => {
      const done = (what: string, action: () => Promise<void>) => () => {
        running.logger.info({ signal: what }, `received ${what}`);
        action()
          .catch((err: unknown) => running.logger.error({ err: String(err) }, `${what} handling failed`))
          .finally(resolve);
      };
      process.once('SIGINT', done('SIGINT', () => running.leave()));
      process.once('SIGTERM', done('SIGTERM', () => running.stop()));
      process.on('SIGHUP', () => {
        void load().then(async (next) => {
          if (!next.ok) {
            running.logger.error({ problems: next.problems.map(formatProblem) }, 'config reload refused: the running configuration is kept');
            return;
          }
          await running.reload(next.resolved);
        });
      });
    });
  });
}
