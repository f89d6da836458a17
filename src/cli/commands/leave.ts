/** `pace leave`: the local node leaves the cluster gracefully (thin client of `POST /v1/leave`). */
import type { Command } from 'commander';
import { addDaemonOptions, withDaemon, type DaemonOptions } from '../daemon-client.js';
import type { Output } from '../output.js';

/** What `leave --json` prints. */
export interface LeaveJson {
  left: true;
}

export function registerLeaveCommand(program: Command, out: Output): void {
  addDaemonOptions(
    program
      .command('leave')
      .description('leave the cluster gracefully: announce the leave (roles move at once), then the agent stops')
      .option('--json', 'print JSON instead of text'),
  ).action(async (opts: DaemonOptions & { json?: boolean }) => {
    await withDaemon(opts, (client) => client.leave());
    out.stdout(opts.json ? JSON.stringify({ left: true } satisfies LeaveJson, null, 2) : 'left the cluster; the agent is stopping');
  });
}
