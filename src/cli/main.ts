/**
 * The `pace` command line. Commands are thin: they parse arguments, call library code (or the
 * daemon's API) and print. Exit codes are in exit-codes.ts; we set process.exitCode rather
 * than calling process.exit() so output is always flushed.
 */
import { Command, CommanderError } from 'commander';
import { registerAgentCommand } from './commands/agent.js';
import { registerConfigCommands } from './commands/config.js';
import { registerKeygenCommand } from './commands/keygen.js';
import { registerLeaveCommand } from './commands/leave.js';
import { registerMembersCommand } from './commands/members.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerPolicyDaemonCommands } from './commands/policy-daemon.js';
import { registerPolicySigningCommands } from './commands/policy-signing.js';
import { registerSimCommands } from './commands/sim.js';
import { registerStatusCommand } from './commands/status.js';
import { CliError, ExitCode } from './exit-codes.js';
import { processOutput, type Output } from './output.js';
import { packageVersion } from './package-info.js';

export function buildProgram(out: Output): Command {
  const program = new Command('pace')
    .description('PACE — Policy-based Autonomous Clustering for the Edge')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => out.stdout(s.trimEnd()), writeErr: (s) => out.stderr(s.trimEnd()) })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 internal error, 2 usage or config error, 3 daemon unreachable,\n4 driver failure, 5 policy invalid, 6 invariant violated (pace sim); 128+n when killed by signal n.',
    );
  registerAgentCommand(program);
  registerStatusCommand(program, out);
  registerMembersCommand(program, out);
  const policy = registerPolicyCommands(program, out);
  registerPolicySigningCommands(policy, out);
  registerPolicyDaemonCommands(policy, out);
  registerLeaveCommand(program, out);
  registerKeygenCommand(program, out);
  registerConfigCommands(program, out);
  registerSimCommands(program, out);
  program.exitOverride();
  for (const command of program.commands) exitOverrideDeep(command);
  return program;
}

function exitOverrideDeep(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) exitOverrideDeep(sub);
}

/** Runs the CLI and returns the exit code (also stored in process.exitCode by `main`). */
export async function run(argv: string[], out: Output = processOutput): Promise<number> {
  const program = buildProgram(out);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    return handleError(err, out);
  }
}

export async function main(argv: string[]): Promise<void> {
  // A reader that goes away (`pace members | head`) is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  process.exitCode = await run(argv);
}

function handleError(err: unknown, out: Output): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
    return ExitCode.usage; // commander has already printed what was wrong
  }
  if (err instanceof CliError) {
    if (err.message !== '') out.stderr(`pace: ${err.message}`);
    for (const line of err.details) out.stderr(`  ${line}`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  out.stderr(`pace: internal error: ${e.message}`);
  if (process.env.PACE_DEBUG) out.stderr(e.stack ?? '');
  return ExitCode.internal;
}
