/** `pace members`: every member as the local daemon sees it (thin client of `GET /v1/members`). */
import type { Command } from 'commander';
import type { MemberStatus } from '../../api/node-control.js';
import { addDaemonOptions, withDaemon, type DaemonOptions } from '../daemon-client.js';
import type { Output } from '../output.js';
import { renderTable } from '../table.js';

/** What `members --json` prints: the API's member shapes, unchanged (docs/API.md). */
export type MembersJson = MemberStatus[];

export function registerMembersCommand(program: Command, out: Output): void {
  addDaemonOptions(
    program
      .command('members')
      .description('list the cluster members: liveness, role, address')
      .option('--json', 'print JSON instead of a table'),
  ).action(async (opts: DaemonOptions & { json?: boolean }) => {
    const members = await withDaemon(opts, (client) => client.members());
    out.stdout(opts.json ? JSON.stringify(members satisfies MembersJson, null, 2) : formatMembers(members));
  });
}

/** The human view: one row per member, sorted by name. */
export function formatMembers(members: readonly MemberStatus[]): string {
  const rows = [...members]
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    .map((m) => [m.name, liveness(m), roleCell(m), m.addresses[0] ?? '-', m.id]);
  return renderTable(['NAME', 'STATUS', 'ROLE', 'ADDRESS', 'ID'], rows);
}

/** The converged liveness, with this node's own view when it differs (`alive (suspect here)`). */
function liveness(m: MemberStatus): string {
  const converged = m.left ? 'left' : m.alive ? 'alive' : 'down';
  return m.local === converged || m.local === 'unknown' ? converged : `${converged} (${m.local} here)`;
}

function roleCell(m: MemberStatus): string {
  const now = m.role ?? 'none';
  return m.role === m.desiredRole ? now : `${now} → ${m.desiredRole}`;
}
