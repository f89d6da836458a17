/**
 * Runs this command again in a child Node process with other Node flags (bin/pace.js does so
 * for `pace sim`, whose V8 flags take effect only at startup). The child shares stdin, stdout
 * and stderr; SIGINT, SIGTERM and SIGHUP sent to this process are passed on, so stopping this
 * process by its id stops the child too.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Resolves with the exit code this process should exit with: the child's, or 128 + the signal
 * number when a signal ended it (as a shell reports it).
 */
export function reexec(nodeFlags: readonly string[], argv: readonly string[] = process.argv.slice(1)): Promise<number> {
  // The handlers go in before the child starts: once the child exists, a signal to this
  // process must never take the default action (ending this process and orphaning the child).
  // Node runs a signal handler on the event loop, never inside spawn(), so `child` is set by then.
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  const child = spawn(process.execPath, [...nodeFlags, ...argv], { stdio: 'inherit' });
  return new Promise<number>((resolve) => {
    const done = (code: number): void => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      resolve(code);
    };
    child.on('error', (err) => {
      process.stderr.write(`pace: cannot start ${process.execPath}: ${err.message}\n`);
      done(1);
    });
    child.on('exit', (code, signal) => done(code ?? 128 + (signal === null ? 0 : constants.signals[signal])));
  });
}
