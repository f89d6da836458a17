/** `pace status`: the local node as its daemon sees it (thin client of `GET /v1/status`). */
import type { Command } from 'commander';
import type { NodeStatus } from '../../api/node-control.js';
import { formatDuration } from '../../policy/duration.js';
import { addDaemonOptions, withDaemon, type DaemonOptions } from '../daemon-client.js';
import type { Output } from '../output.js';
import { renderFields } from '../table.js';

/** What `status --json` prints: the API's status shape, unchanged (docs/API.md). */
export type StatusJson = NodeStatus;

export function registerStatusCommand(program: Command, out: Output): void {
  addDaemonOptions(
    program
      .command('status')
      .description("show the local node: its role, phase, active and rejected policy, managers")
      .option('--json', 'print JSON instead of text'),
  ).action(async (opts: DaemonOptions & { json?: boolean }) => {
    const status = await withDaemon(opts, (client) => client.status());
    out.stdout(opts.json ? JSON.stringify(status satisfies StatusJson, null, 2) : formatStatus(status));
  });
}

/** The human view of a status: one `label  value` line per field. */
export function formatStatus(s: NodeStatus): string {
  const role = s.role === s.desiredRole ? (s.role ?? 'none') : `${s.role ?? 'none'} (policy wants ${s.desiredRole})`;
  const fields: [string, string][] = [
    ['node', `${s.node.name} (${s.node.id})`],
    ['cluster', s.cluster],
    ['role', role],
    ['phase', s.reason === '' ? s.phase : `${s.phase}: ${s.reason}`],
    ['policy', s.policy ? `${s.policy.name} v${s.policy.version} (signed by ${s.policy.signer})` : 'none'],
  ];
  if (s.rejectedPolicy) {
    const r = s.rejectedPolicy;
    fields.push(['rejected', `${r.name} v${r.version}: ${r.reason}`]);
  }
  fields.push(
    ['managers', list(s.managers)],
    ['control plane', list(s.controlPlane)],
    ['partition', s.minority ? 'minority (cannot reach a majority of the control plane; makes no manager changes)' : 'majority'],
    ['converged', s.converged ? 'yes' : 'no'],
    ['peers', String(s.peers)],
    ['uptime', formatDuration(Math.floor(s.uptimeMs / 1000) * 1000)],
    ['version', s.version],
  );
  return renderFields(fields);
}

function list(items: readonly string[]): string {
  return items.length === 0 ? '-' : items.join(', ');
}
