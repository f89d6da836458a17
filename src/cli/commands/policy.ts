/** `pace policy check|plan|explain`: offline policy tools (no daemon needed). */
import type { Command } from 'commander';
import { evaluate } from '../../policy/evaluate.js';
import { loadPolicyFile, readMembersFile } from '../policy-files.js';
import { MembersFileError } from '../../policy/members-file.js';
import type { Assignment, Policy } from '../../policy/types.js';
import { formatDiagnostic } from '../../util/source-position.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { renderTable } from '../table.js';
import type { Output } from '../output.js';

/** What `plan --json` prints. Kept apart from internal types so they can change freely. */
export interface PlanJson {
  policy: { name: string; version: number };
  target: number;
  eligibleLive: number;
  managers: string[];
  nodes: { id: string; role: string; reasons: string[] }[];
}

/** Registers `policy check|plan|explain` and returns the `policy` command for more subcommands. */
export function registerPolicyCommands(program: Command, out: Output): Command {
  const policy = program.command('policy').description('check, plan and explain cluster policies; show and apply the running one');

  policy
    .command('check')
    .description('validate policy files; prints FILE:LINE:COL: message per problem')
    .argument('<file...>', 'policy YAML files')
    .addHelpText('after', '\nExit codes: 0 all valid, 5 any invalid.')
    .action(async (files: string[]) => {
      let bad = 0;
      for (const file of files) {
        const result = await loadPolicyFile(file);
        if (result.ok) {
          out.stdout(`${file}: ok (${result.policy.name} v${result.policy.version})`);
        } else {
          bad++;
          for (const d of result.diagnostics) out.stderr(formatDiagnostic(d));
        }
      }
      if (bad > 0) throw new CliError(ExitCode.policyInvalid, '');
    });

  policy
    .command('plan')
    .description('evaluate a policy offline over a members file and print every node\'s role')
    .argument('<file>', 'policy YAML file')
    .requiredOption('--members <file>', 'JSON array of members (see docs/POLICY.md#members-file)')
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', '\nExit codes: 0 ok, 2 bad members file, 5 invalid policy.')
    .action(async (file: string, opts: { members: string; json?: boolean }) => {
      const assignment = await planFrom(file, opts.members);
      if (opts.json) {
        out.stdout(JSON.stringify(toPlanJson(assignment), null, 2));
        return;
      }
      const a = assignment;
      out.stdout(`policy ${a.policy.name} v${a.policy.version}: ${a.eligibleLive} eligible live node(s) → ${a.target} manager(s)`);
      out.stdout(renderTable(['ID', 'ROLE', 'WHY'], a.nodes.map((n) => [n.id, n.role, n.summary])));
    });

  policy
    .command('explain')
    .description('explain step by step why one node gets its role')
    .argument('<file>', 'policy YAML file')
    .requiredOption('--members <file>', 'JSON array of members (see docs/POLICY.md#members-file)')
    .requiredOption('--node <id>', 'the node to explain')
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', '\nExit codes: 0 ok, 2 bad members file or unknown node, 5 invalid policy.')
    .action(async (file: string, opts: { members: string; node: string; json?: boolean }) => {
      const a = await planFrom(file, opts.members);
      const node = a.nodes.find((n) => n.id === opts.node);
      if (!node) throw new CliError(ExitCode.usage, `node '${opts.node}' is not in ${opts.members} (members: ${a.nodes.map((n) => n.id).join(', ')})`);
      if (opts.json) {
        out.stdout(JSON.stringify({ policy: a.policy, fleet: a.steps, node: { id: node.id, role: node.role, reasons: node.reasons } }, null, 2));
        return;
      }
      out.stdout(`${node.id} → ${node.role} under policy ${a.policy.name} v${a.policy.version}`);
      out.stdout('\nFleet:');
      a.steps.forEach((s, i) => out.stdout(`  ${i + 1}. ${s}`));
      out.stdout(`\nNode ${node.id}:`);
      node.reasons.forEach((r, i) => out.stdout(`  ${i + 1}. ${r}`));
    });
  return policy;
}

async function planFrom(policyFile: string, membersFile: string): Promise<Assignment> {
  const policy = await policyOrFail(policyFile);
  try {
    return evaluate(policy, { members: await readMembersFile(membersFile) });
  } catch (err) {
    if (err instanceof MembersFileError) {
      throw new CliError(ExitCode.usage, `invalid members file ${err.file}:`, err.problems);
    }
    throw err;
  }
}

/** Loads a policy or ends the command with exit 5 and every diagnostic. */
export async function policyOrFail(file: string): Promise<Policy> {
  const result = await loadPolicyFile(file);
  if (result.ok) return result.policy;
  throw new CliError(ExitCode.policyInvalid, `invalid policy ${file}:`, result.diagnostics.map(formatDiagnostic));
}

export function toPlanJson(a: Assignment): PlanJson {
  return {
    policy: a.policy,
    target: a.target,
    eligibleLive: a.eligibleLive,
    managers: a.managers,
    nodes: a.nodes.map((n) => ({ id: n.id, role: n.role, reasons: n.reasons })),
  };
}
